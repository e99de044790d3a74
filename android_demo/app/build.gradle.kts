plugins {
    id("com.android.application")
}

android {
    namespace = "org.lgrin.edge.demo.app"
    compileSdk = 34
    ndkVersion = "26.3.11579264"

    defaultConfig {
        applicationId = "org.lgrin.edge.demo"
        minSdk = 24
        targetSdk = 34
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            abiFilters += "arm64-v8a"
        }
        externalNativeBuild {
            cmake {
                targets += "lgrin_jni"
                arguments += listOf("-DCMAKE_BUILD_TYPE=Release", "-DANDROID_STL=none")
            }
        }
    }

    // The C99 runtime and its JNI bridge are built from the project's export/ folder, not copied.
    externalNativeBuild {
        cmake {
            path = file("../../export/CMakeLists.txt")
            version = "3.22.1"
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_11
        targetCompatibility = JavaVersion.VERSION_11
    }

    androidResources {
        noCompress += "tflite"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            // Sign with your own key for distribution; the debug key lets `assembleRelease` install for testing.
            signingConfig = signingConfigs.getByName("debug")
        }
    }
}

dependencies {
    implementation(project(":core"))
    // LiteRT (formerly TensorFlow Lite): org.tensorflow.lite.Interpreter
    implementation("com.google.ai.edge.litert:litert:1.4.1")
}
