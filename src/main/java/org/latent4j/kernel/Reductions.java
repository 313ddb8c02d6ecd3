package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Row and column sums of row-major blocks. */
public final class Reductions {
    private Reductions() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();

    /** out[r] = sum_c x[r][c]   (x: rows x cols at xOff; out: rows). */
    public static void rowSums(float[] out, int outOff, float[] x, int xOff, int rows, int cols) {
        checkBlock(x, xOff, rows, cols);
        Activations.checkRange("out", out, outOff, rows);
        for (int r = 0; r < rows; r++) {
            out[outOff + r] = sum(x, xOff + r * cols, cols);
        }
    }

    /**
     * out[c] (+)= sum_r x[r][c]   (x: rows x cols; out: cols). Each column is summed in row
     * order, so the result does not depend on the vector width. {@code accumulate} adds to out.
     */
    public static void colSums(float[] out, int outOff, float[] x, int xOff, int rows, int cols, boolean accumulate) {
        checkBlock(x, xOff, rows, cols);
        Activations.checkRange("out", out, outOff, cols);
        int c = 0;
        for (int bound = S.loopBound(cols); c < bound; c += L) {
            FloatVector acc = accumulate ? FloatVector.fromArray(S, out, outOff + c) : FloatVector.zero(S);
            for (int r = 0; r < rows; r++) {
                acc = acc.add(FloatVector.fromArray(S, x, xOff + r * cols + c));
            }
            acc.intoArray(out, outOff + c);
        }
        if (c < cols) {
            VectorMask<Float> m = S.indexInRange(c, cols);
            FloatVector acc = accumulate ? FloatVector.fromArray(S, out, outOff + c, m) : FloatVector.zero(S);
            for (int r = 0; r < rows; r++) {
                acc = acc.add(FloatVector.fromArray(S, x, xOff + r * cols + c, m));
            }
            acc.intoArray(out, outOff + c, m);
        }
    }

    /** Sum of x[off .. off+n): lane-wise partial sums, then the lanes. */
    public static float sum(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            acc = acc.add(FloatVector.fromArray(S, x, off + i));
        }
        if (i < n) {
            acc = acc.add(FloatVector.fromArray(S, x, off + i, S.indexInRange(i, n)));
        }
        float sum = 0f;   // lanes in lane order: reduceLanes(ADD)'s order differs between interpreter and C2
        for (int j = 0; j < L; j++) {
            sum += acc.lane(j);
        }
        return sum;
    }

    /**
     * True when x[off .. off+n) holds no NaN and no infinity. x * 0 is 0 for every finite x and
     * NaN otherwise, so one lane-wise sum of x * 0 answers for the whole range.
     */
    public static boolean allFinite(float[] x, int off, int n) {
        Activations.checkRange("x", x, off, n);
        FloatVector acc = FloatVector.zero(S), zero = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(S, x, off + i).fma(zero, acc);
        }
        for (; i < n; i++) {
            if (!Float.isFinite(x[off + i])) {
                return false;
            }
        }
        return acc.reduceLanes(VectorOperators.ADD) == 0f;
    }

    /** allFinite(x, 0, n) for a scalar reference in tests. */
    static boolean allFiniteNaive(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(x[off + i])) {
                return false;
            }
        }
        return true;
    }

    /** Sum in double of x[off .. off+n), in index order (for loss totals over a batch). */
    public static double sumDouble(float[] x, int off, int n) {
        Activations.checkRange("x", x, off, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[off + i];
        }
        return s;
    }

    static void checkBlock(float[] x, int xOff, int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("reduction: rows and cols must be positive, got " + rows + "x" + cols);
        }
        Activations.checkRange("x", x, xOff, (long) rows * cols);
    }
}
