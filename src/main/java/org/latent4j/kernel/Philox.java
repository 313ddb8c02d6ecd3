package org.latent4j.kernel;

/**
 * Philox4x32-10 (Salmon et al., SC'11), a counter-based generator: every draw is a pure
 * function of (seed, stream, index), so it does not depend on which thread made it, in what
 * order, or how a batch was split.
 *
 * <p>Layout: the 128-bit counter is (index low, index high, stream low, stream high), the key is
 * (seed low, seed high). Each counter gives four 32-bit words. Element {@code e} of a stream
 * comes from counter {@code e / 4}, word {@code e % 4}.
 */
public final class Philox {
    private Philox() {}

    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final float TWO_POW_MINUS_23 = 0x1.0p-23f;

    /** One Philox4x32-10 block: out[0..3] = philox(ctr, key). */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * A 32-bit word mapped to a float uniform in the open interval (0, 1): the midpoints of
     * 2^23 equal cells, so the smallest is 2^-24 and the largest 1 - 2^-24 (both exact floats).
     */
    public static float toUniform(int word) {
        return ((word >>> 9) + 0.5f) * TWO_POW_MINUS_23;
    }

    /** out[off + i] = uniform(seed, stream, start + i) in (0, 1), for i in [0, n). */
    public static void fillUniform(float[] out, int off, int n, long seed, long stream, long start) {
        checkFill(out, off, n, start);
        int[] w = new int[4];
        int k0 = (int) seed, k1 = (int) (seed >>> 32), s0 = (int) stream, s1 = (int) (stream >>> 32);
        long e = start;
        int i = 0;
        while (i < n) {
            long ctr = e >>> 2;
            block((int) ctr, (int) (ctr >>> 32), s0, s1, k0, k1, w);
            for (int lane = (int) (e & 3); lane < 4 && i < n; lane++, i++, e++) {
                out[off + i] = toUniform(w[lane]);
            }
        }
    }

    /**
     * out[off + i] = standard normal(seed, stream, start + i), for i in [0, n). Box-Muller on
     * the block's words (0, 1) and (2, 3), computed with StrictMath so the values are the same
     * on every JVM and CPU.
     */
    public static void fillNormal(float[] out, int off, int n, long seed, long stream, long start) {
        checkFill(out, off, n, start);
        int[] w = new int[4];
        double[] z = new double[4];
        int k0 = (int) seed, k1 = (int) (seed >>> 32), s0 = (int) stream, s1 = (int) (stream >>> 32);
        long e = start;
        int i = 0;
        while (i < n) {
            long ctr = e >>> 2;
            block((int) ctr, (int) (ctr >>> 32), s0, s1, k0, k1, w);
            boxMuller(toUniform(w[0]), toUniform(w[1]), z, 0);
            boxMuller(toUniform(w[2]), toUniform(w[3]), z, 2);
            for (int lane = (int) (e & 3); lane < 4 && i < n; lane++, i++, e++) {
                out[off + i] = (float) z[lane];
            }
        }
    }

    private static void boxMuller(float u1, float u2, double[] z, int at) {
        double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double t = 2.0 * Math.PI * u2;
        z[at] = r * StrictMath.cos(t);
        z[at + 1] = r * StrictMath.sin(t);
    }

    private static void checkFill(float[] out, int off, int n, long start) {
        if (n < 0) {
            throw new IllegalArgumentException("count must not be negative, got " + n);
        }
        if (start < 0) {
            throw new IllegalArgumentException("start index must not be negative, got " + start);
        }
        Activations.checkRange("out", out, off, n);
    }
}
