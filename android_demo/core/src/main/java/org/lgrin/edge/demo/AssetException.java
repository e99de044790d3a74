// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.IOException;

/** The packed assets are missing, corrupt or inconsistent; the message says which file and what to do. */
public final class AssetException extends IOException {
    private static final long serialVersionUID = 1L;

    public AssetException(String message) {
        super(message);
    }

    public AssetException(String message, Throwable cause) {
        super(message, cause);
    }
}
