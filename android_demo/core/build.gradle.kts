// Platform-independent demo code (no android.* imports): asset parsing, pre/post-processing, the Backend
// interface and the JNI wrapper. Runs unchanged on the desktop JVM (android_demo/ci.sh) and in the app.
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_11
    targetCompatibility = JavaVersion.VERSION_11
}

sourceSets {
    main {
        // LGrinNative.java lives with the C99 runtime and its JNI bridge; it is used here, not copied.
        java.srcDir("../../export/java")
    }
}

// Desktop tests (plain Java, no framework; src/test/java is the standard test source set):
//   gradle :core:desktopTest -PlgrinAssets=<packed assets folder> -PlgrinJniDir=<folder with liblgrin_jni.so>
tasks.register<JavaExec>("desktopTest") {
    group = "verification"
    description = "Runs the desktop-JVM tests (the JNI tests too when lgrinAssets and lgrinJniDir are given)."
    classpath = sourceSets.test.get().runtimeClasspath
    mainClass.set("org.lgrin.edge.demo.DesktopTests")
    project.findProperty("lgrinJniDir")?.let { jvmArgs("-Djava.library.path=$it") }
    project.findProperty("lgrinAssets")?.let { args(it.toString()) }
}
