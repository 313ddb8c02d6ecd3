package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

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

    /**
     * out[off + i] = uniform(seed, stream, start + i) in (0, 1), for i in [0, n). Allocates nothing.
     * Whole runs of {@code 4 * L} values (L = the long lanes of {@link Simd#FLOAT}'s width) take L
     * counters at once: the ten rounds in 64-bit lanes, where each 32 x 32-bit product is exact,
     * then the same float conversion as {@link #toUniform}; so the values are bitwise the scalar
     * definition at every width. The ends (and 64-bit vectors) run scalar.
     */
    public static void fillUniform(float[] out, int off, int n, long seed, long stream, long start) {
        checkFill(out, off, n, start);
        int head = (int) Math.min(n, (4 - (start & 3)) & 3);
        fill(out, off, head, seed, stream, start, false);
        int i = head;
        if (VECTOR_ROUNDS) {
            int step = 4 * LONG_LANES;
            long k0 = seed & LOW, k1 = seed >>> 32, s0 = stream & LOW, s1 = stream >>> 32;
            for (; n - i >= step; i += step) {
                uniformBlocks(out, off + i, k0, k1, s0, s1, (start + i) >>> 2);
            }
        }
        fill(out, off + i, n - i, seed, stream, start + i, false);
    }

    private static final long LOW = 0xFFFFFFFFL;
    private static final VectorSpecies<Long> LONG = VectorSpecies.of(long.class, Simd.FLOAT.vectorShape());
    private static final int LONG_LANES = LONG.length();
    /**
     * Whether whole blocks take the vector rounds: at least two long lanes, on hardware whose
     * preferred vectors are 256 bits or wider. On SSE-only x86 and 128-bit NEON, C2 has no
     * 64-bit lane multiply, so the vectors would be boxed (allocating on every call: measured
     * with -XX:UseAVX=0); there the scalar rounds run. Both paths give the same bits.
     */
    private static final boolean VECTOR_ROUNDS = LONG_LANES >= 2
            && jdk.incubator.vector.VectorShape.preferredShape().vectorBitSize() >= 256;
    /** 0, 1, ..., L - 1: the counter offsets of one vector of blocks. */
    private static final LongVector IOTA = LongVector.zero(LONG).addIndex(1);
    /**
     * Float lane f of the first (second) output vector takes float lane 2 (f / 4) + f % 2 (plus
     * the vector's half) of the converted words 0, 1 when f / 2 is even, of words 2, 3 when odd:
     * the long lanes (word pairs) of the two vectors interleaved, done on float lanes because
     * 2-lane long rearranges are not intrinsified (128-bit vectors).
     */
    private static final VectorSpecies<Float> FLOAT = Simd.FLOAT;
    private static final VectorShuffle<Float> SPREAD_LOW = VectorShuffle.fromOp(FLOAT, f -> 2 * (f / 4) + f % 2);
    private static final VectorShuffle<Float> SPREAD_HIGH = VectorShuffle.fromOp(FLOAT, f -> FLOAT.length() / 2 + 2 * (f / 4) + f % 2);
    private static final VectorMask<Float> ODD_PAIRS = VectorMask.fromLong(FLOAT, 0xCCCCCCCCCCCCCCCCL);

    /**
     * The 4 L uniforms of counters ctr .. ctr + L - 1 (stream (s0, s1), key (k0, k1), each half
     * in a long's low 32 bits) into out[o .. o + 4 L): out[o + 4 b + j] = toUniform(word j of
     * block b). Words 0 and 1 (2 and 3) of block b are packed into long lane b, low then high,
     * converted as int lanes, and the two long vectors interleaved lane by lane into memory order.
     * One method, no vector crosses a call: C2 keeps every vector in registers.
     */
    private static void uniformBlocks(float[] out, int o, long k0, long k1, long s0, long s1, long ctr) {
        LongVector counter = LongVector.broadcast(LONG, ctr).add(IOTA);
        LongVector c0 = counter.and(LOW), c1 = counter.lanewise(VectorOperators.LSHR, 32);
        LongVector c2 = LongVector.broadcast(LONG, s0), c3 = LongVector.broadcast(LONG, s1);
        long r0 = k0, r1 = k1;
        for (int r = 0; r < 10; r++) {
            LongVector p0 = c0.mul(M0 & LOW), p1 = c2.mul(M1 & LOW);
            LongVector n0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1.lanewise(VectorOperators.XOR, r0));
            LongVector n2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3.lanewise(VectorOperators.XOR, r1));
            c1 = p1.and(LOW);
            c3 = p0.and(LOW);
            c0 = n0;
            c2 = n2;
            r0 = (r0 + (W0 & LOW)) & LOW;
            r1 = (r1 + (W1 & LOW)) & LOW;
        }
        IntVector w01 = c0.or(c1.lanewise(VectorOperators.LSHL, 32)).reinterpretAsInts();
        IntVector w23 = c2.or(c3.lanewise(VectorOperators.LSHL, 32)).reinterpretAsInts();
        FloatVector u01 = ((FloatVector) w01.lanewise(VectorOperators.LSHR, 9).convert(VectorOperators.I2F, 0))
                .add(0.5f).mul(TWO_POW_MINUS_23);
        FloatVector u23 = ((FloatVector) w23.lanewise(VectorOperators.LSHR, 9).convert(VectorOperators.I2F, 0))
                .add(0.5f).mul(TWO_POW_MINUS_23);
        u01.rearrange(SPREAD_LOW).blend(u23.rearrange(SPREAD_LOW), ODD_PAIRS).intoArray(out, o);
        u01.rearrange(SPREAD_HIGH).blend(u23.rearrange(SPREAD_HIGH), ODD_PAIRS).intoArray(out, o + 2 * LONG_LANES);
    }

    /**
     * out[off + i] = standard normal(seed, stream, start + i), for i in [0, n). Box-Muller on
     * the block's words (0, 1) and (2, 3) in double, with StrictMath's log and our own sin/cos
     * from exact operations, so the values are the same on every JVM and CPU. Allocates nothing.
     */
    public static void fillNormal(float[] out, int off, int n, long seed, long stream, long start) {
        fill(out, off, n, seed, stream, start, true);
    }

    private static void fill(float[] out, int off, int n, long seed, long stream, long start, boolean normal) {
        checkFill(out, off, n, start);
        int k0 = (int) seed, k1 = (int) (seed >>> 32), s0 = (int) stream, s1 = (int) (stream >>> 32);
        long e = start;
        int i = 0;
        while (i < n) {
            long ctr = e >>> 2;
            // One Philox4x32-10 block, in locals (the same rounds as block()).
            int c0 = (int) ctr, c1 = (int) (ctr >>> 32), c2 = s0, c3 = s1, r0 = k0, r1 = k1;
            for (int r = 0; r < 10; r++) {
                long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
                long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
                int n0 = (int) (p1 >>> 32) ^ c1 ^ r0;
                int n2 = (int) (p0 >>> 32) ^ c3 ^ r1;
                c1 = (int) p1;
                c3 = (int) p0;
                c0 = n0;
                c2 = n2;
                r0 += W0;
                r1 += W1;
            }
            float v0, v1, v2, v3;
            if (normal) {
                double ra = StrictMath.sqrt(-2.0 * StrictMath.log(toUniform(c0)));
                double rb = StrictMath.sqrt(-2.0 * StrictMath.log(toUniform(c2)));
                double ua = toUniform(c1) - 0.5, ub = toUniform(c3) - 0.5;   // angle 2 pi u - pi
                v0 = (float) (ra * cosTwoPi(ua));
                v1 = (float) (ra * sinTwoPi(ua));
                v2 = (float) (rb * cosTwoPi(ub));
                v3 = (float) (rb * sinTwoPi(ub));
            } else {
                v0 = toUniform(c0);
                v1 = toUniform(c1);
                v2 = toUniform(c2);
                v3 = toUniform(c3);
            }
            for (int lane = (int) (e & 3); lane < 4 && i < n; lane++, i++, e++) {
                out[off + i] = lane == 0 ? v0 : lane == 1 ? v1 : lane == 2 ? v2 : v3;
            }
        }
    }

    // sin and cos of 2 pi u for u in [-1/2, 1/2], in double, from exact operations only (StrictMath's
    // sin and cos allocate a scratch array on every call, and a training step must allocate nothing).
    // u is cut into quarter turns: u = q / 4 + f with |f| <= 1/8, then Taylor series of the
    // remaining angle x = 2 pi f, |x| <= pi / 4, to x^17 (truncation below 1e-17).

    static double sinTwoPi(double u) {
        double q = Math.rint(4 * u);
        double x = 2 * Math.PI * (u - 0.25 * q);
        int k = (int) q & 3;
        return k == 0 ? sinPoly(x) : k == 1 ? cosPoly(x) : k == 2 ? -sinPoly(x) : -cosPoly(x);
    }

    static double cosTwoPi(double u) {
        double q = Math.rint(4 * u);
        double x = 2 * Math.PI * (u - 0.25 * q);
        int k = (int) q & 3;
        return k == 0 ? cosPoly(x) : k == 1 ? -sinPoly(x) : k == 2 ? -cosPoly(x) : sinPoly(x);
    }

    private static double sinPoly(double x) {
        double z = x * x;
        double p = -1.0 / 355687428096000.0;
        p = p * z + 1.0 / 1307674368000.0;
        p = p * z - 1.0 / 6227020800.0;
        p = p * z + 1.0 / 39916800.0;
        p = p * z - 1.0 / 362880.0;
        p = p * z + 1.0 / 5040.0;
        p = p * z - 1.0 / 120.0;
        p = p * z + 1.0 / 6.0;
        return x - x * z * p;
    }

    private static double cosPoly(double x) {
        double z = x * x;
        double p = 1.0 / 6402373705728000.0;
        p = p * z - 1.0 / 20922789888000.0;
        p = p * z + 1.0 / 87178291200.0;
        p = p * z - 1.0 / 479001600.0;
        p = p * z + 1.0 / 3628800.0;
        p = p * z - 1.0 / 40320.0;
        p = p * z + 1.0 / 720.0;
        p = p * z - 1.0 / 24.0;
        p = p * z + 0.5;
        return 1 - z * p;
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
