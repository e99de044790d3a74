// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

/**
 * T frames to the M nodes of the model's graph, exactly as lgrin_edge/data/graph.py's sequence_to_graphs
 * (and lgrin_input.h's lgrin_graph_indices): T &lt;= M repeats the frames from the start (cyclic padding);
 * for T &gt; M, TRUNCATE keeps the first M frames, RESAMPLE takes frames rint(j (T - 1) / (M - 1)) computed
 * in double, halves to the even neighbour, the last node frame T - 1 (numpy's round(linspace)), and CHUNK
 * makes ceil(T / M) graphs of consecutive frames, the last one cyclically padded.
 * The desktop test InputTests holds every index equal to Python's known answers.
 */
public final class GraphRule {
    /** Policies, in lgrin_edge.data.graph.LONG_POLICIES' order. */
    public static final int TRUNCATE = 0;
    public static final int RESAMPLE = 1;
    public static final int CHUNK = 2;

    private GraphRule() {}

    /** How many graphs T frames make: 1, or ceil(T / M) for CHUNK with T &gt; M. */
    public static int count(int t, int m, int policy) {
        check(t, m, policy);
        return policy == CHUNK && t > m ? (int) (((long) t + m - 1) / m) : 1;
    }

    /** The frame (0 .. T-1) node j of graph {@code graph} takes. */
    public static int node(int t, int m, int policy, int graph, int j) {
        if (graph < 0 || graph >= count(t, m, policy) || j < 0 || j >= m) {
            throw new IllegalArgumentException("graph " + graph + ", node " + j + " of T=" + t + ", M=" + m);
        }
        if (t <= m) {
            return j % t;
        }
        if (policy == TRUNCATE) {
            return j;
        }
        if (policy == RESAMPLE) {
            if (m == 1) {
                return 0;
            }
            if (j == m - 1) {
                return t - 1;
            }
            return (int) Math.rint((double) j * ((double) (t - 1) / (double) (m - 1)));
        }
        int s = graph * m;
        return s + j % Math.min(m, t - s);
    }

    /** The M frame indices of graph {@code graph}. */
    public static int[] indices(int t, int m, int policy, int graph) {
        int[] idx = new int[m];
        for (int j = 0; j < m; j++) {
            idx[j] = node(t, m, policy, graph, j);
        }
        return idx;
    }

    /**
     * out (M x P floats, row-major) = graph {@code graph} of the T frames held in a ring of
     * {@code capacity} frames of P floats whose oldest is at slot {@code first} (frame i at slot
     * (first + i) mod capacity; a plain T x P array is capacity T, first 0).
     */
    public static void gather(float[] ring, int capacity, int first, int t, int p, int m, int policy, int graph,
                              float[] out) {
        if (p < 1 || t > capacity || first < 0 || first >= capacity || ring.length < (long) capacity * p
                || out.length < (long) m * p) {
            throw new IllegalArgumentException("ring of " + capacity + " x " + p + " floats cannot hold T=" + t
                    + " frames from slot " + first + ", or out is shorter than M x P");
        }
        for (int j = 0; j < m; j++) {
            int slot = (int) (((long) first + node(t, m, policy, graph, j)) % capacity);
            System.arraycopy(ring, slot * p, out, j * p, p);
        }
    }

    private static void check(int t, int m, int policy) {
        if (t < 1 || m < 1) {
            throw new IllegalArgumentException("a graph needs at least one frame and one node, got T=" + t + ", M=" + m);
        }
        if (policy < TRUNCATE || policy > CHUNK) {
            throw new IllegalArgumentException("policy must be TRUNCATE, RESAMPLE or CHUNK, got " + policy);
        }
    }
}
