package org.latent4j.kernel;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One row times a packed matrix, for inference at batch 1: {@code y = act(alpha * x B + bias)},
 * x of k floats, B (k x n) packed once per model by {@link Gemm#packB} (or its 16-bit copy,
 * {@link #packBf16}).
 *
 * <p>A product of one row through {@link Gemm} fills a panel of {@link Gemm#MR} rows, seven of
 * them zeros on AVX-512: it did eight times the multiply-adds. Here each pass broadcasts one x[p]
 * and streams the same rows of four B panels (8 vectors, 8 accumulators), so the weights are read
 * once per call and nothing else is (a memory-bound loop: 4.4 MB of weights for the W1 VAE).
 *
 * <p>Rounding: the same as {@link Gemm}'s: k is cut into {@link Gemm#blockDepth} blocks, each
 * summed from zero in k order with fused multiply-adds and added to the running total, so a row
 * gives bitwise the result of {@link Gemm#gemmPacked} (any batch) and of any thread count: threads
 * take disjoint panels of outputs, never part of a sum.
 *
 * <p>16-bit weights ({@link #packBf16}): bfloat16 (the top half of a float, rounded to nearest
 * even), two per int: lane l of a row holds column l in its low half and column l + L in its high
 * half, so a load of L ints gives both vectors of a panel row with one shift and one mask. Half
 * the bytes of float weights; the relative error of each weight is at most 2^-9.
 *
 * <p>An instance runs {@link #dense} on the threads of a {@link SpinTeam} (or the calling thread)
 * and allocates nothing per call; it is not thread-safe: one per executing plan.
 */
public final class Gemv {
    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final VectorSpecies<Integer> I = S.vectorShape().withLanes(int.class);
    private static final int L = S.length();
    private static final int NR = Gemm.NR;
    /** Products with fewer weights than this run on the calling thread (the split costs more than it saves). */
    static final int SPLIT_WEIGHTS = 1 << 15;

    private final SpinTeam team;
    private final IntConsumer share = this::share;

    /** On the calling thread. */
    public Gemv() {
        this(null);
    }

    /** On the team's threads (null: the calling thread only). */
    public Gemv(SpinTeam team) {
        this.team = team;
    }

    /** Threads one call may use. */
    public int threads() {
        return team == null ? 1 : team.threads();
    }

    // The current call (valid only inside dense()).
    private float[] y;
    private int yOff;
    private float[] x;
    private int xOff;
    private int k;
    private int n;
    private float alpha;
    private float[] packed;
    private int[] packed16;
    private int packedOff;
    private float[] bias;
    private int biasOff;
    private Activation act;
    private float actParam;
    private int shares;
    private boolean vector;

    /**
     * y[yOff .. +n) = act(alpha * x[xOff .. +k) B + bias[biasOff .. +n)) with B packed by
     * {@link Gemm#packB} at {@code packedOff} of {@code packed}, or, when {@code packed16} is not
     * null, by {@link #packBf16} (then {@code packed} is not read). bias may be null.
     */
    public void dense(float[] y, int yOff, float[] x, int xOff, int k, int n, float alpha, float[] packed, int[] packed16, int packedOff,
                      float[] bias, int biasOff, Activation act, float actParam) {
        if (k <= 0 || n <= 0) {
            throw new IllegalArgumentException("gemv: dimensions must be positive, got k=" + k + ", n=" + n);
        }
        Gemm.checkMatrix("x", x, xOff, k, 1, k);
        Gemm.checkMatrix("y", y, yOff, n, 1, n);
        int need = Gemm.packedBSize(k, n);
        if (packed16 != null) {
            if (packedOff < 0 || packedOff > packed16.length - need / 2) {
                throw new IllegalArgumentException("gemv: 16-bit packed B needs " + need / 2 + " ints at offset " + packedOff
                        + ", the buffer has " + packed16.length);
            }
        } else if (packed == null || packedOff < 0 || packedOff > packed.length - need) {
            throw new IllegalArgumentException("gemv: packed B needs " + need + " floats at offset " + packedOff + ", the buffer has "
                    + (packed == null ? 0 : packed.length));
        }
        if (bias != null) {
            Gemm.checkMatrix("bias", bias, biasOff, n, 1, n);
        }
        act.checkParameter(actParam);
        this.y = y;
        this.yOff = yOff;
        this.x = x;
        this.xOff = xOff;
        this.k = k;
        this.n = n;
        this.alpha = alpha;
        this.packed = packed;
        this.packed16 = packed16;
        this.packedOff = packedOff;
        this.bias = bias;
        this.biasOff = biasOff;
        this.act = act;
        this.actParam = actParam;
        vector = VectorWarmUp.ready();
        int panels = Gemm.ceilDiv(n, NR);
        shares = team == null || (long) k * n < SPLIT_WEIGHTS ? 1 : Math.min(team.threads(), panels);
        try {
            if (shares == 1) {
                share(0);
            } else {
                team.run(shares, share);
            }
        } finally {
            this.y = null;
            this.x = null;
            this.packed = null;
            this.packed16 = null;
            this.bias = null;
        }
    }

    /** Share t of the call: a contiguous range of panels, its outputs, their bias and activation. */
    private void share(int t) {
        int panels = Gemm.ceilDiv(n, NR);
        int p0 = (int) ((long) panels * t / shares), p1 = (int) ((long) panels * (t + 1) / shares);
        if (p1 <= p0) {
            return;
        }
        if (!vector) {
            panelsScalar(y, yOff, x, xOff, k, n, alpha, packed, packed16, packedOff, p0, p1);
        } else if (packed16 != null) {
            panels16(y, yOff, x, xOff, k, n, alpha, packed16, packedOff, p0, p1);
        } else {
            panels(y, yOff, x, xOff, k, n, alpha, packed, packedOff, p0, p1);
        }
        int j0 = p0 * NR, j1 = Math.min(n, p1 * NR);
        if (bias != null || act != Activation.IDENTITY) {
            Activations.biasForward(act, actParam, y, yOff + j0, y, yOff + j0, bias, biasOff + j0, 1, j1 - j0);
        }
    }

    // ---------------------------------------------------------------- float weights

    /**
     * y[yOff + p0 * NR .. yOff + min(n, p1 * NR)) = alpha * x B for panels [p0, p1) of B packed
     * by {@link Gemm#packB} at {@code off}. No bias, no activation.
     */
    public static void panels(float[] y, int yOff, float[] x, int xOff, int k, int n, float alpha, float[] b, int off, int p0, int p1) {
        int kcb = Gemm.blockDepth(k);
        int p = p0;
        for (; p + 4 <= p1; p += 4) {
            four(y, yOff, x, xOff, k, n, kcb, alpha, b, off, p);
        }
        for (; p < p1; p++) {
            one(y, yOff, x, xOff, k, n, kcb, alpha, b, off, p);
        }
    }

    private static void four(float[] y, int yOff, float[] x, int xOff, int k, int n, int kcb, float alpha, float[] b, int off, int p) {
        int stride = k * NR;
        int b0 = off + p * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector t0 = FloatVector.zero(S), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
        for (int pc = 0; pc < k; pc += kcb) {
            int end = Math.min(k, pc + kcb);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int q = pc; q < end; q++) {
                FloatVector v = FloatVector.broadcast(S, x[xOff + q]);
                int r = q * NR;
                a0 = v.fma(FloatVector.fromArray(S, b, b0 + r), a0);
                a1 = v.fma(FloatVector.fromArray(S, b, b0 + r + L), a1);
                a2 = v.fma(FloatVector.fromArray(S, b, b1 + r), a2);
                a3 = v.fma(FloatVector.fromArray(S, b, b1 + r + L), a3);
                a4 = v.fma(FloatVector.fromArray(S, b, b2 + r), a4);
                a5 = v.fma(FloatVector.fromArray(S, b, b2 + r + L), a5);
                a6 = v.fma(FloatVector.fromArray(S, b, b3 + r), a6);
                a7 = v.fma(FloatVector.fromArray(S, b, b3 + r + L), a7);
            }
            t0 = t0.add(a0.mul(va));
            t1 = t1.add(a1.mul(va));
            t2 = t2.add(a2.mul(va));
            t3 = t3.add(a3.mul(va));
            t4 = t4.add(a4.mul(va));
            t5 = t5.add(a5.mul(va));
            t6 = t6.add(a6.mul(va));
            t7 = t7.add(a7.mul(va));
        }
        int j = p * NR;
        store(t0, y, yOff, j, n);
        store(t1, y, yOff, j + L, n);
        store(t2, y, yOff, j + NR, n);
        store(t3, y, yOff, j + NR + L, n);
        store(t4, y, yOff, j + 2 * NR, n);
        store(t5, y, yOff, j + 2 * NR + L, n);
        store(t6, y, yOff, j + 3 * NR, n);
        store(t7, y, yOff, j + 3 * NR + L, n);
    }

    private static void one(float[] y, int yOff, float[] x, int xOff, int k, int n, int kcb, float alpha, float[] b, int off, int p) {
        int b0 = off + p * k * NR;
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector t0 = FloatVector.zero(S), t1 = t0;
        for (int pc = 0; pc < k; pc += kcb) {
            int end = Math.min(k, pc + kcb);
            FloatVector a0 = FloatVector.zero(S), a1 = a0;
            for (int q = pc; q < end; q++) {
                FloatVector v = FloatVector.broadcast(S, x[xOff + q]);
                int r = b0 + q * NR;
                a0 = v.fma(FloatVector.fromArray(S, b, r), a0);
                a1 = v.fma(FloatVector.fromArray(S, b, r + L), a1);
            }
            t0 = t0.add(a0.mul(va));
            t1 = t1.add(a1.mul(va));
        }
        int j = p * NR;
        store(t0, y, yOff, j, n);
        store(t1, y, yOff, j + L, n);
    }

    /** Columns [j, j + L) of y, masked at n (a partial last panel; nothing past n is written). */
    private static void store(FloatVector v, float[] y, int yOff, int j, int n) {
        if (j + L <= n) {
            v.intoArray(y, yOff + j);
        } else if (j < n) {
            v.intoArray(y, yOff + j, S.indexInRange(j, n));
        }
    }

    // ---------------------------------------------------------------- the scalar twin

    /**
     * As {@link #panels} (packed16 null) or {@link #panels16} (packed16 not null, then b is not
     * read), bitwise: the same k blocks, each summed from zero in k order with {@link Math#fma},
     * scaled by alpha and added to the running total. Plain scalar loops, cheap in the interpreter
     * and compiled by C1 within milliseconds: a fresh JVM runs its first calls here while the
     * vector kernels are still interpreted (boxed vectors, 10-50 x slower; see {@link VectorWarmUp}).
     */
    public static void panelsScalar(float[] y, int yOff, float[] x, int xOff, int k, int n, float alpha, float[] b, int[] b16, int off,
                                    int p0, int p1) {
        int kcb = Gemm.blockDepth(k);
        for (int p = p0; p < p1; p++) {
            int cols = Math.min(NR, n - p * NR);
            for (int c = 0; c < cols; c++) {
                float t = 0f;
                if (b16 == null) {
                    int base = off + p * k * NR + c;
                    for (int pc = 0; pc < k; pc += kcb) {
                        int end = Math.min(k, pc + kcb);
                        float a = 0f;
                        for (int q = pc, r = base + pc * NR; q < end; q++, r += NR) {
                            a = Math.fma(x[xOff + q], b[r], a);
                        }
                        t += a * alpha;
                    }
                } else {   // lane c % L of a row: column c < L in the low half, c >= L in the high half
                    int base = off + p * k * L + (c < L ? c : c - L);
                    for (int pc = 0; pc < k; pc += kcb) {
                        int end = Math.min(k, pc + kcb);
                        float a = 0f;
                        for (int q = pc, r = base + pc * L; q < end; q++, r += L) {
                            int w = b16[r];
                            a = Math.fma(x[xOff + q], Float.intBitsToFloat(c < L ? w << 16 : w & HIGH), a);
                        }
                        t += a * alpha;
                    }
                }
                y[yOff + p * NR + c] = t;
            }
        }
    }

    // ---------------------------------------------------------------- 16-bit weights

    /** The bfloat16 of a float, rounded to nearest even (NaN stays NaN). */
    public static int bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (bits >>> 16) | 0x40;
        }
        return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
    }

    /** The float of a bfloat16. */
    public static float fromBf16(int h) {
        return Float.intBitsToFloat(h << 16);
    }

    /**
     * The bfloat16 copy of a B packed by {@link Gemm#packB} (k x n): half as many ints as floats,
     * for {@link #dense} and {@link #panels16}.
     */
    public static int[] packBf16(float[] packed, int k, int n) {
        int need = Gemm.packedBSize(k, n);
        if (packed == null || packed.length < need) {
            throw new IllegalArgumentException("gemv: a packed " + k + "x" + n + " B has " + need + " floats, got "
                    + (packed == null ? 0 : packed.length));
        }
        int[] out = new int[need / 2];
        for (int row = 0; row < need / NR; row++) {   // a row of a panel: NR floats -> L ints
            int src = row * NR, dst = row * L;
            for (int l = 0; l < L; l++) {
                out[dst + l] = bf16(packed[src + l]) | bf16(packed[src + L + l]) << 16;
            }
        }
        return out;
    }

    /** As {@link #panels} with B in bfloat16 ({@link #packBf16}) at int offset {@code off}. */
    public static void panels16(float[] y, int yOff, float[] x, int xOff, int k, int n, float alpha, int[] b, int off, int p0, int p1) {
        int kcb = Gemm.blockDepth(k);
        int p = p0;
        for (; p + 4 <= p1; p += 4) {
            four16(y, yOff, x, xOff, k, n, kcb, alpha, b, off, p);
        }
        for (; p < p1; p++) {
            one16(y, yOff, x, xOff, k, n, kcb, alpha, b, off, p);
        }
    }

    private static final int HIGH = 0xFFFF0000;

    private static FloatVector low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector v) {
        return v.lanewise(VectorOperators.AND, HIGH).reinterpretAsFloats();
    }

    private static void four16(float[] y, int yOff, float[] x, int xOff, int k, int n, int kcb, float alpha, int[] b, int off, int p) {
        int stride = k * L;
        int b0 = off + p * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector t0 = FloatVector.zero(S), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
        for (int pc = 0; pc < k; pc += kcb) {
            int end = Math.min(k, pc + kcb);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int q = pc; q < end; q++) {
                FloatVector v = FloatVector.broadcast(S, x[xOff + q]);
                int r = q * L;
                IntVector w0 = IntVector.fromArray(I, b, b0 + r), w1 = IntVector.fromArray(I, b, b1 + r);
                IntVector w2 = IntVector.fromArray(I, b, b2 + r), w3 = IntVector.fromArray(I, b, b3 + r);
                a0 = v.fma(low(w0), a0);
                a1 = v.fma(high(w0), a1);
                a2 = v.fma(low(w1), a2);
                a3 = v.fma(high(w1), a3);
                a4 = v.fma(low(w2), a4);
                a5 = v.fma(high(w2), a5);
                a6 = v.fma(low(w3), a6);
                a7 = v.fma(high(w3), a7);
            }
            t0 = t0.add(a0.mul(va));
            t1 = t1.add(a1.mul(va));
            t2 = t2.add(a2.mul(va));
            t3 = t3.add(a3.mul(va));
            t4 = t4.add(a4.mul(va));
            t5 = t5.add(a5.mul(va));
            t6 = t6.add(a6.mul(va));
            t7 = t7.add(a7.mul(va));
        }
        int j = p * NR;
        store(t0, y, yOff, j, n);
        store(t1, y, yOff, j + L, n);
        store(t2, y, yOff, j + NR, n);
        store(t3, y, yOff, j + NR + L, n);
        store(t4, y, yOff, j + 2 * NR, n);
        store(t5, y, yOff, j + 2 * NR + L, n);
        store(t6, y, yOff, j + 3 * NR, n);
        store(t7, y, yOff, j + 3 * NR + L, n);
    }

    private static void one16(float[] y, int yOff, float[] x, int xOff, int k, int n, int kcb, float alpha, int[] b, int off, int p) {
        int b0 = off + p * k * L;
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector t0 = FloatVector.zero(S), t1 = t0;
        for (int pc = 0; pc < k; pc += kcb) {
            int end = Math.min(k, pc + kcb);
            FloatVector a0 = FloatVector.zero(S), a1 = a0;
            for (int q = pc; q < end; q++) {
                FloatVector v = FloatVector.broadcast(S, x[xOff + q]);
                IntVector w = IntVector.fromArray(I, b, b0 + q * L);
                a0 = v.fma(low(w), a0);
                a1 = v.fma(high(w), a1);
            }
            t0 = t0.add(a0.mul(va));
            t1 = t1.add(a1.mul(va));
        }
        int j = p * NR;
        store(t0, y, yOff, j, n);
        store(t1, y, yOff, j + L, n);
    }
}
