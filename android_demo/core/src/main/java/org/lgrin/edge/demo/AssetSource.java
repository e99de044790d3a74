// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Where the demo's packed assets come from: the APK's assets on Android, a folder on the desktop. */
public interface AssetSource {
    /** Opens the named asset; throws {@link java.io.FileNotFoundException} if it does not exist. */
    InputStream open(String name) throws IOException;

    /** The asset folder written by {@code android_demo/pack_assets.py}, read from the file system. */
    static AssetSource directory(final File dir) {
        return name -> new FileInputStream(new File(dir, name));
    }
}
