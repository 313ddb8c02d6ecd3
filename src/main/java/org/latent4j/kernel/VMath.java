package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, expm1, log, log1p and tanh on float vectors, built only from IEEE-exact operations
 * (+, -, *, /, fma, comparisons, bit moves).
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: compiled by C2 it calls the SVML library,
 * but interpreted (or before C2 has compiled the loop) it falls back to {@code Math.exp} per
 * lane, and the two differ in the last bit. A training run would then depend on when the JIT
 * kicked in, and "same seed, same weights" would not hold. These functions give the same bits
 * in every execution mode and on every CPU. Accuracy: within 3 ulp of the exact result on
 * normal inputs (checked in VMathTest against double precision).
 *
 * <p>The polynomials are the classic single-precision minimax fits of the Cephes library
 * (S. L. Moshier), with Cody-Waite range reduction.
 */
public final class VMath {
    private VMath() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float EXP_HI = 88.72283905206835f;
    private static final float EXP_LO = -103.97207708f;   // below: e^x is 0 in float
    private static final float ROUND = 12582912f;          // 1.5 * 2^23: adding and subtracting rounds to an integer
    private static final float SQRT_HALF = 0.707106781186547524f;

    /** e^x; +inf above 88.72, 0 below -103.97, NaN stays NaN. */
    public static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-87.33654f).min(EXP_HI);      // keeps 2^n a normal float; NaN passes through
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);   // round(x / ln 2)
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, 1.9875691500E-4f);
        p = p.fma(r, FloatVector.broadcast(S, 1.3981999507E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073E-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894E-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459E-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201E-1f));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        // 2^n as two factors 2^(n/2) and 2^(n - n/2), so n = 128 (x near 88.7) does not overflow the exponent field.
        IntVector ni = (IntVector) n.convertShape(VectorOperators.F2I, I, 0);
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(n1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector y = e.mul(s1).mul(s2);
        // Below -87.3 the clamped value would be 2^-126-ish: scale the rest of the way down.
        VectorMask<Float> low = x.compare(VectorOperators.LT, -87.33654f);
        if (low.anyTrue()) {
            FloatVector xl = x.max(EXP_LO).add(25f * 0.6931471805599453f);  // e^(x + 25 ln2) * 2^-25
            FloatVector yl = exp(xl.max(-87.33654f)).mul(0x1.0p-25f);
            y = y.blend(yl, low);
            y = y.blend(0f, x.compare(VectorOperators.LT, EXP_LO));
        }
        return y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
    }

    /** e^x - 1, accurate for small x. */
    public static FloatVector expm1(FloatVector x) {
        // |x| < 0.5: Taylor series to x^9 (remainder below 2^-31 relative).
        FloatVector p = FloatVector.broadcast(S, 1f / 362880f);
        p = p.fma(x, FloatVector.broadcast(S, 1f / 40320f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 5040f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 720f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 120f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 24f));
        p = p.fma(x, FloatVector.broadcast(S, 1f / 6f));
        p = p.fma(x, FloatVector.broadcast(S, 0.5f));
        FloatVector small = p.mul(x).fma(x, x);
        FloatVector big = exp(x).sub(1f);
        return big.blend(small, x.abs().compare(VectorOperators.LT, 0.5f));
    }

    /** Natural log; -inf at 0, NaN below 0 and for NaN, +inf at +inf. */
    public static FloatVector log(FloatVector x) {
        // Subnormals: scale into the normal range first.
        VectorMask<Float> sub = x.compare(VectorOperators.LT, Float.MIN_NORMAL);
        FloatVector xs = x.blend(x.mul(0x1.0p23f), sub);
        IntVector bits = xs.reinterpretAsInts();
        IntVector ei = bits.lanewise(VectorOperators.ASHR, 23).sub(126);
        FloatVector m = bits.and(0x007FFFFF).or(0x3F000000).reinterpretAsFloats();   // mantissa in [0.5, 1)
        FloatVector e = (FloatVector) ei.convertShape(VectorOperators.I2F, S, 0);
        e = e.blend(e.sub(23f), sub);
        VectorMask<Float> lowM = m.compare(VectorOperators.LT, SQRT_HALF);
        e = e.blend(e.sub(1f), lowM);
        FloatVector f = m.blend(m.add(m), lowM).sub(1f);                            // f in [sqrt(1/2) - 1, sqrt(2) - 1)
        FloatVector z = f.mul(f);
        FloatVector p = FloatVector.broadcast(S, 7.0376836292E-2f);
        p = p.fma(f, FloatVector.broadcast(S, -1.1514610310E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 1.1676998740E-1f));
        p = p.fma(f, FloatVector.broadcast(S, -1.2420140846E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 1.4249322787E-1f));
        p = p.fma(f, FloatVector.broadcast(S, -1.6668057665E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 2.0000714765E-1f));
        p = p.fma(f, FloatVector.broadcast(S, -2.4999993993E-1f));
        p = p.fma(f, FloatVector.broadcast(S, 3.3333331174E-1f));
        FloatVector y = p.mul(f).mul(z);
        y = e.fma(FloatVector.broadcast(S, LN2_LO), y);
        y = z.fma(FloatVector.broadcast(S, -0.5f), y);
        FloatVector r = f.add(y);
        r = e.fma(FloatVector.broadcast(S, LN2_HI), r);
        r = r.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        r = r.blend(Float.NaN, x.compare(VectorOperators.LT, 0f));
        r = r.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
        return r.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** log(1 + x), accurate for small x (Goldberg's trick: log(w) * x / (w - 1) with w = 1 + x). */
    public static FloatVector log1p(FloatVector x) {
        FloatVector w = x.add(1f);
        FloatVector d = w.sub(1f);
        FloatVector r = log(w).mul(x.div(d));
        return r.blend(x, d.compare(VectorOperators.EQ, 0f));
    }

    /** tanh; odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1) above. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector z = x.mul(x);
        FloatVector p = FloatVector.broadcast(S, -5.70498872745E-3f);
        p = p.fma(z, FloatVector.broadcast(S, 2.06390887954E-2f));
        p = p.fma(z, FloatVector.broadcast(S, -5.37397155531E-2f));
        p = p.fma(z, FloatVector.broadcast(S, 1.33314422036E-1f));
        p = p.fma(z, FloatVector.broadcast(S, -3.33332819422E-1f));
        FloatVector small = p.mul(z).fma(x, x);
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.add(a)).add(1f)));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        return big.blend(small, a.compare(VectorOperators.LT, 0.625f));
    }
}
