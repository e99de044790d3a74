// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

/**
 * MediaPipe's face mesh (478 points, or 468 without the irises) in image-normalised coordinates to one model
 * frame [x_0 .. x_67, y_0 .. y_67] in pixels, as lgrin_edge/features/face.py makes it from a video (and
 * lgrin_input.h's lgrin_face_frame): the 68 iBUG points of MESH_TO_IBUG68, x times the image width and y
 * times its height in double, rounded to float. The table is generated from face.py's
 * (python -m tests.frontend.test_landmarks); the desktop test InputTests checks it and the frames.
 */
public final class LandmarkFrames {
    public static final int POINTS = 68;
    public static final int WIDTH = 2 * POINTS;

    // BEGIN MESH_TO_IBUG68: written by lgrin_edge.frontend.landmarks.java_table() from face.py; do not edit
    private static final int[] MESH_TO_IBUG68 = {
        127, 234, 93,  132, 58,  136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356, 70,  63,  105,
        66,  107, 336, 296, 334, 293, 300, 168, 197, 5,   4,   98,  97,  2,   326, 327, 33,  160, 158, 133,
        153, 144, 362, 385, 387, 263, 373, 380, 61,  40,  37,  0,   267, 270, 291, 321, 314, 17,  84,  91,
        78,  81,  13,  311, 308, 402, 14,  178,
    };
    // END MESH_TO_IBUG68

    private LandmarkFrames() {}

    /** The mesh vertex of iBUG point i + 1 (a copy of the table). */
    public static int[] meshToIbug68() {
        return MESH_TO_IBUG68.clone();
    }

    /**
     * Writes the frame of one mesh to out (WIDTH floats). mesh: nPoints (468 or 478) x stride floats (x, y[, z]);
     * width, height: the image's pixels.
     */
    public static void frame(float[] mesh, int nPoints, int stride, int width, int height, float[] out) {
        if ((nPoints != 468 && nPoints != 478) || stride < 2 || width < 1 || height < 1
                || mesh.length < nPoints * stride || out.length < WIDTH) {
            throw new IllegalArgumentException("expected 468 or 478 face-mesh points of at least 2 floats and an"
                    + " image of at least 1 x 1 pixels, got " + nPoints + " points, stride " + stride + ", "
                    + width + " x " + height);
        }
        for (int i = 0; i < POINTS; i++) {
            int at = MESH_TO_IBUG68[i] * stride;
            if (!Float.isFinite(mesh[at]) || !Float.isFinite(mesh[at + 1])) {
                throw new IllegalArgumentException("face-mesh point " + MESH_TO_IBUG68[i] + " is NaN or infinite");
            }
        }
        for (int i = 0; i < POINTS; i++) {
            int at = MESH_TO_IBUG68[i] * stride;
            out[i] = (float) ((double) mesh[at] * (double) width);
            out[POINTS + i] = (float) ((double) mesh[at + 1] * (double) height);
        }
    }
}
