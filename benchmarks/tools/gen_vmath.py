#!/usr/bin/env python3
"""Generates src/main/java/org/latent4j/kernel/VMath.java.

Every function is a loop whose body is written out in full (no helper taking or returning a
vector), because a vector that crosses a method boundary C2 did not inline is boxed on the heap
and the kernel runs 5-30x slower (measured). The bodies use only IEEE-exact operations, so the
interpreter, C1 and C2 give the same bits. Run: python3 benchmarks/tools/gen_vmath.py
"""
import itertools, os

_c = itertools.count()
def t(prefix='t'):
    return f"{prefix}{next(_c)}"

def B(v):
    return f"FloatVector.broadcast(S, {v})"

def exp_body(x, out):
    xc, n, r, p, ni, n1, s1, s2 = [t() for _ in range(8)]
    return [
        f"FloatVector {xc} = {x}.max(EXP_MIN).min(EXP_MAX);",
        f"FloatVector {n} = {xc}.mul(LOG2E).add(ROUND).sub(ROUND);",
        f"FloatVector {r} = {n}.fma(NEG_LN2_HI, {xc});",
        f"{r} = {n}.fma(NEG_LN2_LO, {r});",
        f"FloatVector {p} = {r}.fma(E5, E4);",
        f"{p} = {p}.fma({r}, E3);",
        f"{p} = {p}.fma({r}, E2);",
        f"{p} = {p}.fma({r}, E1);",
        f"{p} = {p}.fma({r}, E0);",
        f"{p} = {p}.fma({r}.mul({r}), {r}).add(1f);",
        f"IntVector {ni} = (IntVector) {n}.convertShape(VectorOperators.F2I, I, 0);",
        f"IntVector {n1} = {ni}.lanewise(VectorOperators.ASHR, 1);",
        f"FloatVector {s1} = {n1}.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();",
        f"FloatVector {s2} = {ni}.sub({n1}).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();",
        f"FloatVector {out} = {p}.mul({s1}).mul({s2})"
        f".blend(0f, {x}.compare(VectorOperators.LT, EXP_MIN))"
        f".blend(Float.POSITIVE_INFINITY, {x}.compare(VectorOperators.GT, EXP_MAX));",
    ]

def expm1_body(x, out):
    p, small, e = t(), t(), t()
    lines = [f"FloatVector {p} = {x}.fma(T9, T8);"]
    for k in [7, 6, 5, 4, 3, 2]:
        lines.append(f"{p} = {p}.fma({x}, T{k});")
    lines.append(f"FloatVector {small} = {p}.mul({x}).fma({x}, {x});")
    lines += exp_body(x, e)
    lines.append(f"FloatVector {out} = {e}.sub(1f).blend({small}, {x}.abs().compare(VectorOperators.LT, 0.5f));")
    return lines

def log_body(x, out):
    sub, xs, bits, ei, m, e, lowM, f, z, p, y, r = [t() for _ in range(12)]
    lines = [
        f"VectorMask<Float> {sub} = {x}.compare(VectorOperators.LT, Float.MIN_NORMAL);",
        f"FloatVector {xs} = {x}.blend({x}.mul(0x1.0p23f), {sub});",
        f"IntVector {bits} = {xs}.reinterpretAsInts();",
        f"IntVector {ei} = {bits}.lanewise(VectorOperators.ASHR, 23).sub(126);",
        f"FloatVector {m} = {bits}.and(0x007FFFFF).or(0x3F000000).reinterpretAsFloats();",
        f"FloatVector {e} = (FloatVector) {ei}.convertShape(VectorOperators.I2F, S, 0);",
        f"{e} = {e}.blend({e}.sub(23f), {sub});",
        f"VectorMask<Float> {lowM} = {m}.compare(VectorOperators.LT, SQRT_HALF);",
        f"{e} = {e}.blend({e}.sub(1f), {lowM});",
        f"FloatVector {f} = {m}.blend({m}.add({m}), {lowM}).sub(1f);",
        f"FloatVector {z} = {f}.mul({f});",
        f"FloatVector {p} = {f}.fma(L8, L7);",
    ]
    for k in [6, 5, 4, 3, 2, 1, 0]:
        lines.append(f"{p} = {p}.fma({f}, L{k});")
    lines += [
        f"FloatVector {y} = {p}.mul({f}).mul({z});",
        f"{y} = {e}.fma(LN2_LO_V, {y});",
        f"{y} = {z}.fma(MINUS_HALF, {y});",
        f"FloatVector {r} = {e}.fma(LN2_HI_V, {f}.add({y}));",
        f"FloatVector {out} = {r}.blend(Float.NEGATIVE_INFINITY, {x}.compare(VectorOperators.EQ, 0f))"
        f".blend(Float.NaN, {x}.compare(VectorOperators.LT, 0f))"
        f".blend(Float.POSITIVE_INFINITY, {x}.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY))"
        f".blend({x}, {x}.test(VectorOperators.IS_NAN));",
    ]
    return lines

def log1p_body(x, out):
    w, d, l = t(), t(), t()
    lines = [f"FloatVector {w} = {x}.add(1f);", f"FloatVector {d} = {w}.sub(1f);"]
    lines += log_body(w, l)
    lines.append(f"FloatVector {out} = {l}.mul({x}.div({d})).blend({x}, {d}.compare(VectorOperators.EQ, 0f));")
    return lines

def tanh_body(x, out):
    a, z, p, small, e, big = [t() for _ in range(6)]
    lines = [f"FloatVector {a} = {x}.abs();", f"FloatVector {z} = {x}.mul({x});",
             f"FloatVector {p} = {z}.fma(H4, H3);"]
    for k in [2, 1, 0]:
        lines.append(f"{p} = {p}.fma({z}, H{k});")
    lines.append(f"FloatVector {small} = {p}.mul({z}).fma({x}, {x});")
    lines += exp_body(f"{a}.add({a})", e)
    lines += [f"FloatVector {big} = ONE.sub(TWO.div({e}.add(1f)));",
              f"{big} = {big}.blend({big}.neg(), {x}.compare(VectorOperators.LT, 0f));",
              f"FloatVector {out} = {big}.blend({small}, {a}.compare(VectorOperators.LT, 0.625f));"]
    return lines

def sigmoid_body(x, out):
    e = t()
    return exp_body(f"{x}.neg()", e) + [f"FloatVector {out} = ONE.div({e}.add(1f));"]

def softplus_body(x, out):
    e, l = t(), t()
    return exp_body(f"{x}.abs().neg()", e) + log1p_body(e, l) + [f"FloatVector {out} = {x}.max(0f).add({l});"]

# ---------------------------------------------------------------- function templates

def unary(name, doc, body, extra_params="", extra_doc=""):
    """y[yo..yo+n) = f(x[xo..xo+n)); y may be x."""
    def block(masked):
        ld = "FloatVector.fromArray(S, x, xo + i, m)" if masked else "FloatVector.fromArray(S, x, xo + i)"
        st = "r.intoArray(y, yo + i, m);" if masked else "r.intoArray(y, yo + i);"
        return [f"FloatVector v = {ld};"] + body("v", "r") + [st]
    return func(f"public static void {name}(float[] y, int yo, float[] x, int xo, int n{extra_params})", doc, block)

# The end of a row sum: lanes added in lane order (reduceLanes(ADD) leaves the order open, and the
# interpreter and C2 pick different ones, so its bits would depend on JIT timing).
LANE_SUM = ["float sum = 0f;", "for (int j = 0; j < L; j++) {", "    sum += acc.lane(j);", "}", "return sum;"]


def func(sig, doc, block, pre=None, post=None, acc=False):
    lines = [f"    /** {doc} */", f"    {sig} {{"]
    if pre:
        lines += ["        " + l for l in pre]
    lines.append("        int i = 0;")
    lines.append("        for (int bound = S.loopBound(n); i < bound; i += L) {")
    lines += ["            " + l for l in block(False)]
    lines.append("        }")
    lines.append("        if (i < n) {")
    lines.append("            VectorMask<Float> m = S.indexInRange(i, n);")
    lines += ["            " + l for l in block(True)]
    lines.append("        }")
    if post:
        lines += ["        " + l for l in post]
    lines.append("    }")
    return "\n".join(lines)

def elu_block(masked):
    ld = "FloatVector.fromArray(S, x, xo + i, m)" if masked else "FloatVector.fromArray(S, x, xo + i)"
    st = "r.intoArray(y, yo + i, m);" if masked else "r.intoArray(y, yo + i);"
    return [f"FloatVector v = {ld};"] + expm1_body("v.min(0f)", "q") + [
        "FloatVector r = v.blend(q.mul(a), v.compare(VectorOperators.GT, 0f).not());", st]

def softplus_bwd_block(masked):
    mk = ", m" if masked else ""
    return [f"FloatVector g = FloatVector.fromArray(S, dy, dyo + i{mk});",
            f"FloatVector v = FloatVector.fromArray(S, y, yo + i{mk});"] + expm1_body("v.neg()", "q") + [
            f"g.mul(q.neg()).intoArray(dx, dxo + i{mk});"]

def expneg_bwd_block(masked):
    mk = ", m" if masked else ""
    return [f"FloatVector g = FloatVector.fromArray(S, dy, dyo + i{mk});",
            f"FloatVector v = FloatVector.fromArray(S, y, yo + i{mk});"] + exp_body("v.neg()", "q") + [
            f"g.mul(q).intoArray(dx, dxo + i{mk});"]

def reparam_block(masked):
    mk = ", m" if masked else ""
    return [f"FloatVector lv = FloatVector.fromArray(S, logvar, i{mk});"] + exp_body("lv.mul(0.5f)", "sd") + [
            f"sd.fma(FloatVector.fromArray(S, eps, i{mk}), FloatVector.fromArray(S, mu, i{mk})).intoArray(z, i{mk});"]

def reparam_kl_bwd_block(masked):
    mk = ", m" if masked else ""
    return [f"FloatVector g = FloatVector.fromArray(S, dz, i{mk});",
            f"FloatVector mv = FloatVector.fromArray(S, mu, i{mk});",
            f"FloatVector lv = FloatVector.fromArray(S, logvar, i{mk});"] + exp_body("lv.mul(0.5f)", "sd") + [
            f"mv.fma(ks, g).intoArray(dmu, i{mk});",
            "FloatVector kl = sd.mul(sd).sub(1f).mul(halfKs);",
            f"g.mul(FloatVector.fromArray(S, eps, i{mk})).mul(sd).fma(HALF, kl).intoArray(dlogvar, i{mk});"]

def kl_rowsum_block(masked):
    mk = ", m" if masked else ""
    lines = [f"FloatVector mv = FloatVector.fromArray(S, mu, off + i{mk});",
             f"FloatVector lv = FloatVector.fromArray(S, logvar, off + i{mk});"] + expm1_body("lv", "q")
    lines.append("acc = acc.add(mv.fma(mv, q.sub(lv))" + (", m);" if masked else ");"))
    return lines

def bce_rowsum_block(masked):
    mk = ", m" if masked else ""
    lines = [f"FloatVector xv = FloatVector.fromArray(S, x, off + i{mk});",
             f"FloatVector tv = FloatVector.fromArray(S, t, off + i{mk});"] + exp_body("xv.abs().neg()", "e") + log1p_body("e", "l")
    lines.append("acc = acc.add(xv.max(0f).sub(xv.mul(tv)).add(l)" + (", m);" if masked else ");"))
    return lines

def bce_bwd_block(masked):
    mk = ", m" if masked else ""
    return [f"FloatVector xv = FloatVector.fromArray(S, x, i{mk});"] + exp_body("xv.neg()", "e") + [
            f"ONE.div(e.add(1f)).sub(FloatVector.fromArray(S, t, i{mk})).mul(scale).intoArray(dx, i{mk});"]

HEADER = '''package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

// GENERATED by benchmarks/tools/gen_vmath.py: edit the generator, not this file.

/**
 * Transcendental kernels (exp, expm1, log, log1p, tanh and the fused pieces built on them)
 * written only with IEEE-exact operations (+, -, *, /, fma, comparisons, bit moves).
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: compiled by C2 it calls the SVML library,
 * but interpreted or in C1 code it falls back to {@code Math.exp} per lane, and the two differ in
 * the last bit; a training run would depend on when the JIT kicked in. These give the same bits
 * in every execution mode and on every CPU (VMathTest runs a child JVM with -Xint to check).
 * Accuracy: within 3 ulp on normal results; results below the smallest normal float (e^x for
 * x < -87.3) are flushed to zero.
 *
 * <p>Each function is one loop with its body written out (no helper method takes or returns a
 * vector): a vector crossing a call C2 did not inline is boxed on the heap, and such kernels ran
 * 5-30x slower. Polynomials: the single-precision minimax fits of the Cephes library
 * (S. L. Moshier) with Cody-Waite range reduction.
 */
public final class VMath {
    private VMath() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    private static final int L = S.length();

    private static final float LOG2E = 1.44269504088896341f;
    private static final float EXP_MAX = 88.72283905206835f;
    private static final float EXP_MIN = -87.33654475f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting rounds to an integer
    private static final float SQRT_HALF = 0.707106781186547524f;
    private static final FloatVector NEG_LN2_HI = FloatVector.broadcast(S, -0.693359375f);
    private static final FloatVector NEG_LN2_LO = FloatVector.broadcast(S, 2.12194440e-4f);
    private static final FloatVector LN2_HI_V = FloatVector.broadcast(S, 0.693359375f);
    private static final FloatVector LN2_LO_V = FloatVector.broadcast(S, -2.12194440e-4f);
    private static final FloatVector ONE = FloatVector.broadcast(S, 1f);
    private static final FloatVector TWO = FloatVector.broadcast(S, 2f);
    private static final FloatVector HALF = FloatVector.broadcast(S, 0.5f);
    private static final FloatVector MINUS_HALF = FloatVector.broadcast(S, -0.5f);
    // e^r on [-ln2/2, ln2/2]
    private static final FloatVector E5 = FloatVector.broadcast(S, 1.9875691500E-4f);
    private static final FloatVector E4 = FloatVector.broadcast(S, 1.3981999507E-3f);
    private static final FloatVector E3 = FloatVector.broadcast(S, 8.3334519073E-3f);
    private static final FloatVector E2 = FloatVector.broadcast(S, 4.1665795894E-2f);
    private static final FloatVector E1 = FloatVector.broadcast(S, 1.6666665459E-1f);
    private static final FloatVector E0 = FloatVector.broadcast(S, 5.0000001201E-1f);
    // log(1 + f) on [sqrt(1/2) - 1, sqrt(2) - 1]
    private static final FloatVector L8 = FloatVector.broadcast(S, 7.0376836292E-2f);
    private static final FloatVector L7 = FloatVector.broadcast(S, -1.1514610310E-1f);
    private static final FloatVector L6 = FloatVector.broadcast(S, 1.1676998740E-1f);
    private static final FloatVector L5 = FloatVector.broadcast(S, -1.2420140846E-1f);
    private static final FloatVector L4 = FloatVector.broadcast(S, 1.4249322787E-1f);
    private static final FloatVector L3 = FloatVector.broadcast(S, -1.6668057665E-1f);
    private static final FloatVector L2 = FloatVector.broadcast(S, 2.0000714765E-1f);
    private static final FloatVector L1 = FloatVector.broadcast(S, -2.4999993993E-1f);
    private static final FloatVector L0 = FloatVector.broadcast(S, 3.3333331174E-1f);
    // tanh on |x| < 0.625
    private static final FloatVector H4 = FloatVector.broadcast(S, -5.70498872745E-3f);
    private static final FloatVector H3 = FloatVector.broadcast(S, 2.06390887954E-2f);
    private static final FloatVector H2 = FloatVector.broadcast(S, -5.37397155531E-2f);
    private static final FloatVector H1 = FloatVector.broadcast(S, 1.33314422036E-1f);
    private static final FloatVector H0 = FloatVector.broadcast(S, -3.33332819422E-1f);
    // expm1 Taylor terms 1/k!
    private static final FloatVector T9 = FloatVector.broadcast(S, 1f / 362880f);
    private static final FloatVector T8 = FloatVector.broadcast(S, 1f / 40320f);
    private static final FloatVector T7 = FloatVector.broadcast(S, 1f / 5040f);
    private static final FloatVector T6 = FloatVector.broadcast(S, 1f / 720f);
    private static final FloatVector T5 = FloatVector.broadcast(S, 1f / 120f);
    private static final FloatVector T4 = FloatVector.broadcast(S, 1f / 24f);
    private static final FloatVector T3 = FloatVector.broadcast(S, 1f / 6f);
    private static final FloatVector T2 = FloatVector.broadcast(S, 0.5f);
'''

parts = [HEADER]
parts.append(unary("exp", "y = e^x; +inf above 88.72, 0 below -87.34 (no subnormal results), NaN stays NaN.", exp_body))
parts.append(unary("expm1", "y = e^x - 1, accurate near 0.", expm1_body))
parts.append(unary("log", "y = ln x; -inf at 0, NaN below 0.", log_body))
parts.append(unary("log1p", "y = ln(1 + x), accurate near 0.", log1p_body))
parts.append(unary("tanh", "y = tanh x.", tanh_body))
parts.append(unary("sigmoid", "y = 1 / (1 + e^-x); exactly 0 or 1 far out, never NaN for a number.", sigmoid_body))
parts.append(unary("softplus", "y = max(x, 0) + log1p(e^-|x|): no overflow for any x.", softplus_body))
parts.append(func("public static void elu(float[] y, int yo, float[] x, int xo, int n, float a)",
                  "y = x > 0 ? x : a (e^x - 1).", elu_block))
parts.append(func("public static void softplusBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n)",
                  "dx = dy * sigmoid(x) = dy * -expm1(-y), from the softplus output y.", softplus_bwd_block))
parts.append(func("public static void expNegBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n)",
                  "dx = dy * e^-y (the derivative of log, from its output y).", expneg_bwd_block))
parts.append(func("public static void reparameterize(float[] z, float[] mu, float[] logvar, float[] eps, int n)",
                  "z = mu + e^(logvar / 2) eps.", reparam_block))
parts.append(func("public static void reparameterizeKlBackward(float[] dmu, float[] dlogvar, float[] dz, float[] mu, float[] logvar, float[] eps, float klScale, int n)",
                  "dmu = dz + klScale mu; dlogvar = dz eps e^(logvar/2) / 2 + klScale (e^logvar - 1) / 2.",
                  reparam_kl_bwd_block,
                  pre=["FloatVector ks = FloatVector.broadcast(S, klScale);", "float halfKs = 0.5f * klScale;"]))
kl = func("public static float klRowSum(float[] mu, float[] logvar, int off, int n)",
          "sum over the row of mu^2 + e^logvar - 1 - logvar (twice the KL to N(0, I)).", kl_rowsum_block,
          pre=["FloatVector acc = FloatVector.zero(S);"], post=LANE_SUM)
parts.append(kl)
parts.append(func("public static float bceRowSum(float[] x, float[] t, int off, int n)",
                  "sum over the row of max(x, 0) - x t + log1p(e^-|x|) (Bernoulli NLL of logits x).", bce_rowsum_block,
                  pre=["FloatVector acc = FloatVector.zero(S);"], post=LANE_SUM))
parts.append(func("public static void bceBackward(float[] dx, float[] x, float[] t, float scale, int n)",
                  "dx = scale (sigmoid(x) - t).", bce_bwd_block))
src = "\n\n".join(parts) + "\n}\n"
out = os.path.join(os.path.dirname(__file__), "..", "..", "src/main/java/org/latent4j/kernel/VMath.java")
open(out, "w").write(src)
print("wrote", os.path.normpath(out))
