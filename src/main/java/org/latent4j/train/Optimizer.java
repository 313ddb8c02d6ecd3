package org.latent4j.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.latent4j.kernel.Simd;

/**
 * Applies an {@link OptimizerSpec} to the flat parameter arena, element-wise and vectorized.
 * State (moments) is one array per kind of moment, the size of the arena.
 *
 * <p>Each update is one loop with its body written out (no helper takes a vector: one C2 did not
 * inline would box it on the heap). Moments below {@link Float#MIN_NORMAL} are flushed to zero: Java has no flush-to-zero mode,
 * and the moments of parameters that never get a gradient (weights of always-zero pixels) would
 * otherwise decay into subnormal floats, which are slow on x86; for the same reason adaptive
 * optimizers treat gradients below 2^-63 as zero (see {@code TINY_GRADIENT}).
 */
public final class Optimizer {
    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();
    /**
     * Gradients below 2^-63 are taken as 0 by the adaptive optimizers: their squares would be
     * subnormal (measured: an Adam step over 1M such gradients 60% slower), and Adam's update of
     * such a gradient is below 1e-11 * lr anyway.
     */
    private static final float TINY_GRADIENT = 0x1.0p-63f;

    private final OptimizerSpec spec;
    private final org.latent4j.kernel.Parallelism parallelism;
    private final int size;
    private final float[] m;
    private final float[] v;
    /** Adam's bias corrections (float) (1 - beta^t) for t = 1 .. length, see {@link #biasCorrections}. */
    private final float[] correction1, correction2;
    private long t;

    public Optimizer(OptimizerSpec spec, int size) {
        this(spec, size, org.latent4j.kernel.Parallelism.serial());
    }

    /**
     * @param size the parameters it updates: [0, size) of the arena (a graph's
     *             {@code trainableCount()}; the state after them is left alone)
     */
    public Optimizer(OptimizerSpec spec, int size, org.latent4j.kernel.Parallelism parallelism) {
        if (size < 0) {
            throw new IllegalArgumentException("optimizer over " + size + " parameters");
        }
        this.spec = spec;
        this.size = size;
        this.parallelism = parallelism;
        int[] sizes = stateSizes(spec, size);
        m = new float[sizes[0]];
        v = new float[sizes[1]];
        boolean adam = spec.kind() == OptimizerSpec.Kind.ADAM || spec.kind() == OptimizerSpec.Kind.ADAMW;
        correction1 = adam ? biasCorrections(spec.beta1()) : new float[0];
        correction2 = adam ? biasCorrections(spec.beta2()) : new float[0];
    }

    /** Longest table of bias corrections kept (4 MB; beta2 = 0.99999 saturates after about 1.7 million steps). */
    static final int MAX_CORRECTIONS = 1 << 20;

    /**
     * c[t - 1] = (float) (1 - StrictMath.pow(beta, t)) for t = 1, 2, ... up to the first t whose value
     * rounds to exactly 1f, which every later t gives too (beta^t falls by the factor beta per step,
     * far more than pow's error), or up to {@link #MAX_CORRECTIONS}. Computed once, because
     * StrictMath.pow allocates scratch arrays on every call (96 bytes in JDK 25, measured), and a
     * training step allocates nothing; the values are the same bits pow gives at each step.
     */
    static float[] biasCorrections(float beta) {
        float[] c = new float[256];
        int n = 0;
        while (n < MAX_CORRECTIONS) {
            float value = (float) (1 - StrictMath.pow(beta, n + 1));
            if (value == 1f) {
                break;
            }
            if (n == c.length) {
                c = java.util.Arrays.copyOf(c, 2 * n);
            }
            c[n++] = value;
        }
        return java.util.Arrays.copyOf(c, n);
    }

    /** (float) (1 - beta^t) from the table, 1f past a saturated table, else (past the cap) from pow. */
    private static float biasCorrection(float[] table, float beta, long t) {
        if (t <= table.length) {
            return table[(int) t - 1];
        }
        return table.length < MAX_CORRECTIONS ? 1f : (float) (1 - StrictMath.pow(beta, t));
    }

    /** The lengths of the first and second moments this optimizer keeps for {@code size} parameters (0: none). */
    public static int[] stateSizes(OptimizerSpec spec, int size) {
        boolean first = spec.kind() != OptimizerSpec.Kind.SGD || spec.momentum() > 0f;
        boolean second = spec.kind() == OptimizerSpec.Kind.ADAM || spec.kind() == OptimizerSpec.Kind.ADAMW
                || spec.kind() == OptimizerSpec.Kind.RMSPROP;
        return new int[] {first && spec.kind() != OptimizerSpec.Kind.RMSPROP ? size : 0, second ? size : 0};
    }

    public OptimizerSpec spec() {
        return spec;
    }

    /** Steps taken so far. */
    public long steps() {
        return t;
    }

    /** First and second moments (for checkpoints); empty arrays when the optimizer keeps none. */
    public float[] firstMoment() {
        return m;
    }

    public float[] secondMoment() {
        return v;
    }

    /**
     * Zeroes the first and second moments of arena elements [offset, offset + length) (parameters a
     * state update replaced, such as a re-seeded code), leaving the step count and everything else.
     */
    public void resetMoments(int offset, int length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("moments [" + offset + ", " + ((long) offset + length) + ") outside the " + size + " parameters this optimizer trains");
        }
        if (m.length > 0) {
            java.util.Arrays.fill(m, offset, offset + length, 0f);
        }
        if (v.length > 0) {
            java.util.Arrays.fill(v, offset, offset + length, 0f);
        }
    }

    public void restore(long steps, float[] first, float[] second) {
        if (first.length != m.length || second.length != v.length) {
            throw new IllegalArgumentException("optimizer state has the wrong size for this model");
        }
        System.arraycopy(first, 0, m, 0, m.length);
        System.arraycopy(second, 0, v, 0, v.length);
        t = steps;
    }

    /**
     * One update of params from grads with learning rate lr. Element-wise, so the arena is cut
     * into chunks for the threads (any cut gives the same bits); allocates nothing.
     */
    public void step(float[] params, float[] grads, float lr) {
        if (params.length != grads.length || params.length < size) {
            throw new IllegalArgumentException("optimizer for " + size + " parameters got " + params.length + " parameters and "
                    + grads.length + " gradients");
        }
        t++;
        curParams = params;
        curGrads = grads;
        curLr = lr;
        int chunks = Math.max(1, Math.min(parallelism.threads(), size / CHUNK));
        curChunks = chunks;
        try {
            parallelism.forEach(chunks, chunkBody);
        } finally {
            curParams = null;
            curGrads = null;
        }
    }

    /** Below this many parameters per thread the update runs on one thread. */
    private static final int CHUNK = 1 << 15;
    private float[] curParams;
    private float[] curGrads;
    private float curLr;
    private int curChunks;
    private final java.util.function.IntConsumer chunkBody = this::updateChunk;

    private void updateChunk(int c) {
        int n = size;
        int per = (n / curChunks + L - 1) / L * L;
        int from = Math.min(n, c * per), to = c == curChunks - 1 ? n : Math.min(n, from + per);
        switch (spec.kind()) {
            case SGD -> sgd(curParams, curGrads, from, to, curLr);
            case ADAM, ADAMW -> adam(curParams, curGrads, from, to, curLr);
            case RMSPROP -> rmsprop(curParams, curGrads, from, to, curLr);
        }
    }

    private void sgd(float[] p, float[] g, int from, int to, float lr) {
        float mu = spec.momentum(), wd = spec.weightDecay();
        boolean nesterov = spec.nesterov();
        FloatVector vmu = FloatVector.broadcast(S, mu), vwd = FloatVector.broadcast(S, wd);
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
            FloatVector pv = FloatVector.fromArray(S, p, i);
            FloatVector gv = FloatVector.fromArray(S, g, i);
            if (wd != 0f) {
                gv = pv.fma(vwd, gv);
            }
            FloatVector d = gv;
            if (mu != 0f) {
                FloatVector buf = FloatVector.fromArray(S, m, i).fma(vmu, gv);
                buf = buf.blend(0f, buf.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
                buf.intoArray(m, i);
                d = nesterov ? buf.fma(vmu, gv) : buf;
            }
            pv.sub(d.mul(lr)).intoArray(p, i);
        }
        if (i < to) {
            VectorMask<Float> k = S.indexInRange(i, to);
            FloatVector pv = FloatVector.fromArray(S, p, i, k);
            FloatVector gv = FloatVector.fromArray(S, g, i, k);
            if (wd != 0f) {
                gv = pv.fma(vwd, gv);
            }
            FloatVector d = gv;
            if (mu != 0f) {
                FloatVector buf = FloatVector.fromArray(S, m, i, k).fma(vmu, gv);
                buf = buf.blend(0f, buf.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
                buf.intoArray(m, i, k);
                d = nesterov ? buf.fma(vmu, gv) : buf;
            }
            pv.sub(d.mul(lr)).intoArray(p, i, k);
        }
    }

    private void adam(float[] p, float[] g, int from, int to, float lr) {
        float b1 = spec.beta1(), b2 = spec.beta2(), eps = spec.epsilon(), wd = spec.weightDecay();
        boolean decoupled = spec.kind() == OptimizerSpec.Kind.ADAMW;
        float c1 = biasCorrection(correction1, b1, t), c2 = biasCorrection(correction2, b2, t);
        float stepSize = lr / c1;
        float invSqrtC2 = (float) (1 / StrictMath.sqrt(c2));
        FloatVector vwd = FloatVector.broadcast(S, wd);
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
            FloatVector pv = FloatVector.fromArray(S, p, i);
            FloatVector gv = FloatVector.fromArray(S, g, i);
            gv = gv.blend(0f, gv.abs().compare(VectorOperators.LT, TINY_GRADIENT));
            if (wd != 0f) {
                if (decoupled) {
                    pv = pv.mul(1f - lr * wd);
                } else {
                    gv = pv.fma(vwd, gv);
                }
            }
            FloatVector mv = FloatVector.fromArray(S, m, i).mul(b1).add(gv.mul(1f - b1));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(b2).add(gv.mul(gv).mul(1f - b2));
            mv = mv.blend(0f, mv.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
            vv = vv.blend(0f, vv.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            FloatVector denom = vv.sqrt().mul(invSqrtC2).add(eps);
            pv.sub(mv.div(denom).mul(stepSize)).intoArray(p, i);
        }
        if (i < to) {
            VectorMask<Float> k = S.indexInRange(i, to);
            FloatVector pv = FloatVector.fromArray(S, p, i, k);
            FloatVector gv = FloatVector.fromArray(S, g, i, k);
            gv = gv.blend(0f, gv.abs().compare(VectorOperators.LT, TINY_GRADIENT));
            if (wd != 0f) {
                if (decoupled) {
                    pv = pv.mul(1f - lr * wd);
                } else {
                    gv = pv.fma(vwd, gv);
                }
            }
            FloatVector mv = FloatVector.fromArray(S, m, i, k).mul(b1).add(gv.mul(1f - b1));
            FloatVector vv = FloatVector.fromArray(S, v, i, k).mul(b2).add(gv.mul(gv).mul(1f - b2));
            mv = mv.blend(0f, mv.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
            vv = vv.blend(0f, vv.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
            mv.intoArray(m, i, k);
            vv.intoArray(v, i, k);
            FloatVector denom = vv.sqrt().mul(invSqrtC2).add(eps);
            pv.sub(mv.div(denom).mul(stepSize)).intoArray(p, i, k);
        }
    }

    private void rmsprop(float[] p, float[] g, int from, int to, float lr) {
        float rho = spec.beta2(), eps = spec.epsilon(), wd = spec.weightDecay();
        FloatVector vwd = FloatVector.broadcast(S, wd);
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
            FloatVector pv = FloatVector.fromArray(S, p, i);
            FloatVector gv = FloatVector.fromArray(S, g, i);
            if (wd != 0f) {
                gv = pv.fma(vwd, gv);
            }
            gv = gv.blend(0f, gv.abs().compare(VectorOperators.LT, TINY_GRADIENT));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(rho).add(gv.mul(gv).mul(1f - rho));
            vv = vv.blend(0f, vv.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
            vv.intoArray(v, i);
            pv.sub(gv.div(vv.sqrt().add(eps)).mul(lr)).intoArray(p, i);
        }
        if (i < to) {
            VectorMask<Float> k = S.indexInRange(i, to);
            FloatVector pv = FloatVector.fromArray(S, p, i, k);
            FloatVector gv = FloatVector.fromArray(S, g, i, k);
            if (wd != 0f) {
                gv = pv.fma(vwd, gv);
            }
            gv = gv.blend(0f, gv.abs().compare(VectorOperators.LT, TINY_GRADIENT));
            FloatVector vv = FloatVector.fromArray(S, v, i, k).mul(rho).add(gv.mul(gv).mul(1f - rho));
            vv = vv.blend(0f, vv.abs().compare(VectorOperators.LT, Float.MIN_NORMAL));
            vv.intoArray(v, i, k);
            pv.sub(gv.div(vv.sqrt().add(eps)).mul(lr)).intoArray(p, i, k);
        }
    }

    /**
     * Scales grads so that their global L2 norm is at most maxNorm; returns the norm before.
     * The norm is summed in double in index order, so it is the same on any thread count.
     */
    public static double clipByNorm(float[] grads, float maxNorm) {
        double s = 0;
        for (float x : grads) {
            s += (double) x * x;
        }
        double norm = StrictMath.sqrt(s);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (int i = 0; i < grads.length; i++) {
                grads[i] *= scale;
            }
        }
        return norm;
    }
}
