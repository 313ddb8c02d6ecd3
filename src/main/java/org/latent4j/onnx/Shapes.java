package org.latent4j.onnx;

/**
 * Dims of ONNX values as the compiler keeps them: row-major int arrays in which the first entry
 * may be {@link #BATCH}, the batch dimension a value computed from the graph inputs has (its
 * size is known only when a batch runs). Constants have fixed dims only.
 */
final class Shapes {
    private Shapes() {}

    /** The batch dimension's place holder. */
    static final int BATCH = -1;

    /** Values in one array at most (an array's limit with room to spare). */
    static final long MAX_VALUES = Integer.MAX_VALUE - 16;

    /** The product of dims (BATCH counts as 1: floats per sample), checked against {@link #MAX_VALUES}. */
    static long count(int[] dims, String what) {
        long n = 1;
        for (int d : dims) {
            if (d == BATCH) {
                continue;
            }
            if (d < 0) {
                throw new IllegalArgumentException(what + ": negative dimension " + d + " in " + describe(dims));
            }
            n *= d;
            if (n > MAX_VALUES) {
                throw new IllegalArgumentException(what + ": shape " + describe(dims) + " has more values than an array holds");
            }
        }
        return n;
    }

    /** Values of a value with these dims at this batch size (per-sample count times batch when batched). */
    static int count(int[] dims, int batch) {
        long n = 1;
        for (int d : dims) {
            n *= d == BATCH ? batch : d;
        }
        return (int) n;
    }

    static boolean batched(int[] dims) {
        return dims.length > 0 && dims[0] == BATCH;
    }

    /** The dims with BATCH replaced by {@code batch}. */
    static int[] resolve(int[] dims, int batch) {
        int[] r = dims.clone();
        for (int i = 0; i < r.length; i++) {
            if (r[i] == BATCH) {
                r[i] = batch;
            }
        }
        return r;
    }

    /**
     * Multidirectional (numpy) broadcasting as ONNX specifies it: dims aligned on the right, each
     * pair equal or one of them 1. BATCH broadcasts against 1 and itself only.
     */
    static int[] broadcast(int[] a, int[] b, String what) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da == db || db == 1) {
                out[i] = da;
            } else if (da == 1) {
                out[i] = db;
            } else {
                throw new IllegalArgumentException(what + ": shapes " + describe(a) + " and " + describe(b) + " do not broadcast (dimension "
                        + i + ": " + name(da) + " against " + name(db) + ")");
            }
        }
        if (rank > 0 && contains(out, BATCH) && out[0] != BATCH) {
            throw new IllegalArgumentException(what + ": broadcasting " + describe(a) + " and " + describe(b)
                    + " would move the batch dimension");
        }
        return out;
    }

    static boolean contains(int[] dims, int v) {
        for (int d : dims) {
            if (d == v) {
                return true;
            }
        }
        return false;
    }

    private static String name(int d) {
        return d == BATCH ? "batch" : String.valueOf(d);
    }

    /** "(batch, 8, 3, 3)" or "()" for a scalar. */
    static String describe(int[] dims) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            s.append(i > 0 ? ", " : "").append(name(dims[i]));
        }
        return s.append(dims.length == 1 ? ",)" : ")").toString();
    }

    /** An axis attribute made non-negative for a value of rank {@code rank}, checked. */
    static int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(what + ": axis " + axis + " is outside a rank-" + rank + " value");
        }
        return (int) a;
    }

    /** Row-major strides of resolved dims. */
    static int[] strides(int[] dims) {
        int[] s = new int[dims.length];
        int n = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = n;
            n *= dims[i];
        }
        return s;
    }
}
