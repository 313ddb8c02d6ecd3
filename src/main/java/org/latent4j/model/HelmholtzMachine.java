package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Bernoulli;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.Reductions;
import org.latent4j.kernel.VMath;

/**
 * A Helmholtz machine ({@link HelmholtzSpec}): a sigmoid belief network p(x, h) with binary
 * stochastic layers h_0 = x, h_1, ..., h_L and a factorial Bernoulli top prior, and a recognition
 * network q(h | x) that mirrors it bottom up.
 *
 * <p>Parameters live in two arenas, the two groups that wake-sleep trains with their own rates:
 * the generative one holds, for l = 0..L-1, {@code generative.l.weight} G_l (w_l x w_{l+1}, out x in
 * as a PyTorch Linear) and {@code generative.l.bias} b_l (w_l), then {@code prior.logits} a (w_L);
 * the recognition one holds {@code recognition.l.weight} R_l (w_{l+1} x w_l) and
 * {@code recognition.l.bias} c_l (w_{l+1}). The arenas are the model's own (training changes them
 * in place through {@link #generative()} and {@link #recognition()}).
 *
 * <p>Random draws come from the counter-based generator: the sample of unit j of row r of layer l
 * in a pass is a pure function of (seed, stream + l, (start + r) w_l + j), so results are bitwise
 * the same for any thread count (the products are thread-count invariant too). The
 * {@link LatentModel} operations are deterministic mean-field passes (probabilities in place of
 * samples) except {@link #sample} and the score's importance sampling, which take a seed.
 */
public final class HelmholtzMachine implements LatentModel {
    /** Metadata key of the spec JSON in a model file. */
    public static final String SPEC_KEY = "latent4j.helmholtz";
    /** Samples of the importance-sampled -log p(x) that {@link #score(float[][])} uses. */
    public static final int SCORE_SAMPLES = 100;
    /** Largest number of importance samples per row in one estimate. */
    public static final int MAX_SAMPLES = 1 << 14;

    private static final long INIT_STREAM = 0x5_0000_0000L;
    private static final long SAMPLE_STREAM = 0x6_0000_0000L;
    private static final long SCORE_STREAM = 0x7_0000_0000L;

    private final HelmholtzSpec spec;
    private final float[] generative;
    private final float[] recognition;
    /** Offsets of G_l, b_l (generative arena) and R_l, c_l (recognition arena); the prior's logits. */
    private final int[] gW;
    private final int[] gB;
    private final int[] rW;
    private final int[] rB;
    private final int prior;

    private HelmholtzMachine(HelmholtzSpec spec, float[] generative, float[] recognition) {
        this.spec = spec;
        int layers = spec.depth() - 1;
        gW = new int[layers];
        gB = new int[layers];
        rW = new int[layers];
        rB = new int[layers];
        int g = 0, r = 0;
        for (int l = 0; l < layers; l++) {
            int a = spec.width(l), b = spec.width(l + 1);
            gW[l] = g;
            g += a * b;
            gB[l] = g;
            g += a;
            rW[l] = r;
            r += a * b;
            rB[l] = r;
            r += b;
        }
        prior = g;
        g += spec.top();
        if (generative.length != g || recognition.length != r) {
            throw new IllegalArgumentException("the Helmholtz machine " + spec.describe() + " has " + g + " generative and " + r
                    + " recognition parameters, got " + generative.length + " and " + recognition.length);
        }
        this.generative = generative;
        this.recognition = recognition;
    }

    /** A machine holding (not copying) the two arenas in the layout described above. */
    public static HelmholtzMachine of(HelmholtzSpec spec, float[] generative, float[] recognition) {
        return new HelmholtzMachine(spec, generative, recognition);
    }

    /**
     * Initial parameters from the seed: every weight N(0, 1) times {@code scale} / sqrt(fan_in)
     * (fan_in the layer's input width), biases and prior logits 0.
     */
    public static HelmholtzMachine initial(HelmholtzSpec spec, long seed, float scale) {
        HelmholtzMachine m = new HelmholtzMachine(spec, new float[sizes(spec)[0]], new float[sizes(spec)[1]]);
        for (int l = 0; l + 1 < spec.depth(); l++) {
            int a = spec.width(l), b = spec.width(l + 1);
            Philox.fillNormal(m.generative, m.gW[l], a * b, seed, INIT_STREAM + 2L * l, 0);
            Philox.fillNormal(m.recognition, m.rW[l], a * b, seed, INIT_STREAM + 2L * l + 1, 0);
            scaleRange(m.generative, m.gW[l], a * b, (float) (scale / Math.sqrt(b)));
            scaleRange(m.recognition, m.rW[l], a * b, (float) (scale / Math.sqrt(a)));
        }
        return m;
    }

    private static void scaleRange(float[] x, int off, int n, float s) {
        for (int i = off; i < off + n; i++) {
            x[i] *= s;
        }
    }

    /** {generative, recognition} arena sizes of a spec. */
    public static int[] sizes(HelmholtzSpec spec) {
        long g = spec.top(), r = 0;
        for (int l = 0; l + 1 < spec.depth(); l++) {
            long a = spec.width(l), b = spec.width(l + 1);
            g += a * b + a;
            r += a * b + b;
        }
        if (g > Integer.MAX_VALUE - 16 || r > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(spec.describe() + " is too large for one arena");
        }
        return new int[] {(int) g, (int) r};
    }

    public HelmholtzSpec spec() {
        return spec;
    }

    /** The generative arena (G_l, b_l for each layer, then the prior's logits), the model's own. */
    public float[] generative() {
        return generative;
    }

    /** The recognition arena (R_l, c_l for each layer), the model's own. */
    public float[] recognition() {
        return recognition;
    }

    public int generativeWeight(int l) {
        return gW[l];
    }

    public int generativeBias(int l) {
        return gB[l];
    }

    public int recognitionWeight(int l) {
        return rW[l];
    }

    public int recognitionBias(int l) {
        return rB[l];
    }

    public int priorLogits() {
        return prior;
    }

    /** An independent copy (both arenas copied). */
    public HelmholtzMachine copy() {
        return new HelmholtzMachine(spec, generative.clone(), recognition.clone());
    }

    // ------------------------------------------------------------------ passes on a workspace

    /**
     * Buffers for passes over up to {@code capacity} rows: per layer the states h_l, the
     * recognition logits and probabilities, the generative logits (then probabilities or
     * deltas), per row log q(h | x) and log p(x, h) in double, and gradient arenas of both groups.
     * Not thread-safe; one per training loop or evaluating thread. Passes allocate nothing.
     */
    public static final class Workspace {
        public final int capacity;
        /** h[l]: states of layer l (h[0] the visible rows), capacity x w_l. */
        public final float[][] h;
        /** Recognition logits and probabilities of layer l >= 1 (q(h_l | h_{l-1})). */
        final float[][] recognitionLogits;
        public final float[][] recognitionProbabilities;
        /** Generative logits of layer l < L (p(h_l | h_{l+1})); turned into probabilities or deltas by the passes. */
        public final float[][] generativeLogits;
        public final double[] logQ;
        public final double[] logP;
        /** Per-row scales of a gradient (importance weights times the step's factor). */
        public final float[] rowScale;
        public final float[] generativeGradient;
        public final float[] recognitionGradient;
        final float[] scratch;
        final Gemm gemm;

        public Workspace(HelmholtzMachine m, int capacity, Parallelism par) {
            this(m, capacity, par, true);
        }

        /** Without gradient arenas ({@code gradients} false): for the passes of inference and evaluation only. */
        Workspace(HelmholtzMachine m, int capacity, Parallelism par, boolean gradients) {
            if (capacity <= 0 || (long) capacity * m.spec.visible() > 1 << 28) {
                throw new IllegalArgumentException("a Helmholtz workspace of " + capacity + " rows of " + m.spec.visible()
                        + " units: rows must be positive and rows x units at most 2^28");
            }
            this.capacity = capacity;
            int depth = m.spec.depth();
            h = new float[depth][];
            recognitionLogits = new float[depth][];
            recognitionProbabilities = new float[depth][];
            generativeLogits = new float[depth][];
            int widest = 0;
            for (int l = 0; l < depth; l++) {
                int w = m.spec.width(l);
                widest = Math.max(widest, w);
                h[l] = new float[capacity * w];
                if (l > 0) {
                    recognitionLogits[l] = new float[capacity * w];
                    recognitionProbabilities[l] = new float[capacity * w];
                }
                if (l < depth - 1) {
                    generativeLogits[l] = new float[capacity * w];
                }
            }
            logQ = new double[capacity];
            logP = new double[capacity];
            rowScale = new float[capacity];
            generativeGradient = new float[gradients ? m.generative.length : 0];
            recognitionGradient = new float[gradients ? m.recognition.length : 0];
            scratch = new float[widest];
            gemm = new Gemm(par);
        }
    }

    private void checkRows(Workspace w, int rows) {
        if (rows <= 0 || rows > w.capacity) {
            throw new IllegalArgumentException("a pass over " + rows + " rows on a workspace of " + w.capacity);
        }
        boolean fits = w.h.length == spec.depth();
        for (int l = 0; fits && l < spec.depth(); l++) {
            fits = w.h[l].length == w.capacity * spec.width(l);
        }
        if (!fits) {
            throw new IllegalArgumentException("the workspace was made for another Helmholtz machine than " + spec.describe());
        }
    }

    /** out (rows x wOut) = in (rows x wIn) W^T + bias, W stored wOut x wIn at wOff of arena. */
    private static void affine(Workspace w, float[] out, float[] in, int rows, int wIn, int wOut, float[] arena, int wOff, int bOff) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(arena, bOff, out, r * wOut, wOut);
        }
        w.gemm.gemm(out, 0, wOut, false, true, rows, wOut, wIn, 1f, in, 0, wIn, arena, wOff, wIn, 1f);
    }

    /**
     * The recognition pass bottom up from the rows in h[0]: for l = 1..L, the logits
     * R_{l-1} h_{l-1} + c_{l-1} and probabilities q_l, and h_l ~ Bernoulli(q_l) drawn from
     * (seed, stream + l, (start + r) w_l + j); logQ[r] = log q(h_1..h_L | x_r). With
     * {@code sample} false, h_l = q_l (mean field) and logQ is not meaningful.
     */
    public void recognize(Workspace w, int rows, boolean sample, long seed, long stream, long start) {
        checkRows(w, rows);
        Arrays.fill(w.logQ, 0, rows, 0.0);
        for (int l = 1; l < spec.depth(); l++) {
            int wi = spec.width(l - 1), wo = spec.width(l);
            affine(w, w.recognitionLogits[l], w.h[l - 1], rows, wi, wo, recognition, rW[l - 1], rB[l - 1]);
            VMath.sigmoid(w.recognitionProbabilities[l], 0, w.recognitionLogits[l], 0, rows * wo);
            if (sample) {
                Bernoulli.sample(w.h[l], 0, w.recognitionProbabilities[l], 0, rows * wo, seed, stream + l, start * wo);
                Bernoulli.logProbabilityRows(w.logQ, 0, w.recognitionLogits[l], 0, w.h[l], 0, rows, wo, w.scratch, true);
            } else {
                System.arraycopy(w.recognitionProbabilities[l], 0, w.h[l], 0, rows * wo);
            }
        }
    }

    /**
     * Recognition probabilities q_l of every layer given the states already in h (a dream's):
     * fills recognitionProbabilities[l] from h[l-1], l = 1..L; samples nothing.
     */
    public void recognitionProbabilities(Workspace w, int rows) {
        checkRows(w, rows);
        for (int l = 1; l < spec.depth(); l++) {
            int wi = spec.width(l - 1), wo = spec.width(l);
            affine(w, w.recognitionLogits[l], w.h[l - 1], rows, wi, wo, recognition, rW[l - 1], rB[l - 1]);
            VMath.sigmoid(w.recognitionProbabilities[l], 0, w.recognitionLogits[l], 0, rows * wo);
        }
    }

    /**
     * The generative model's score of the states in h: logP[r] = log p(h_L) + sum_l log p(h_l | h_{l+1})
     * for row r, leaving the generative logits of each layer l &lt; L in generativeLogits[l].
     */
    public void scoreGenerative(Workspace w, int rows) {
        checkRows(w, rows);
        int top = spec.depth() - 1;
        Bernoulli.logProbabilityRowsShared(w.logP, 0, generative, prior, w.h[top], 0, rows, spec.top(), false);
        for (int l = top - 1; l >= 0; l--) {
            int wi = spec.width(l + 1), wo = spec.width(l);
            affine(w, w.generativeLogits[l], w.h[l + 1], rows, wi, wo, generative, gW[l], gB[l]);
            Bernoulli.logProbabilityRows(w.logP, 0, w.generativeLogits[l], 0, w.h[l], 0, rows, wo, w.scratch, true);
        }
    }

    /**
     * An ancestral dream top down: h_L ~ Bernoulli(sigmoid(a)), then h_l ~ p(h_l | h_{l+1}) down to
     * h_0, drawn from (seed, stream + l, (start + r) w_l + j). The visible layer's probabilities
     * stay in generativeLogits[0]. With {@code sample} false, a mean-field pass from the prior's
     * probabilities.
     */
    public void dream(Workspace w, int rows, boolean sample, long seed, long stream, long start) {
        checkRows(w, rows);
        int top = spec.depth() - 1, wt = spec.top();
        // The prior's probabilities are the same for every row: computed once, copied to the others.
        VMath.sigmoid(w.h[top], 0, generative, prior, wt);
        for (int r = 1; r < rows; r++) {
            System.arraycopy(w.h[top], 0, w.h[top], r * wt, wt);
        }
        if (sample) {
            Bernoulli.sample(w.h[top], 0, w.h[top], 0, rows * wt, seed, stream + top, start * wt);
        }
        for (int l = top - 1; l >= 0; l--) {
            int wi = spec.width(l + 1), wo = spec.width(l);
            affine(w, w.generativeLogits[l], w.h[l + 1], rows, wi, wo, generative, gW[l], gB[l]);
            VMath.sigmoid(w.generativeLogits[l], 0, w.generativeLogits[l], 0, rows * wo);
            if (sample) {
                Bernoulli.sample(w.h[l], 0, w.generativeLogits[l], 0, rows * wo, seed, stream + l, start * wo);
            } else {
                System.arraycopy(w.generativeLogits[l], 0, w.h[l], 0, rows * wo);
            }
        }
    }

    /**
     * generativeGradient = sum_r rowScale[r] d log p(h_r) / d theta_p after {@link #scoreGenerative}
     * (whose logits it turns into deltas): the local delta rule of each layer,
     * dG_l = sum_r s_r (h_l - p_l) h_{l+1}^T, db_l = sum_r s_r (h_l - p_l), and for the prior
     * da = sum_r s_r (h_L - sigmoid(a)).
     */
    public void generativeGradient(Workspace w, int rows) {
        checkRows(w, rows);
        float[] grad = w.generativeGradient;
        int top = spec.depth() - 1, wt = spec.top();
        for (int j = 0; j < wt; j++) {
            float pa = (float) (1 / (1 + Math.exp(-generative[prior + j])));
            double s = 0;
            for (int r = 0; r < rows; r++) {
                s += w.rowScale[r] * (w.h[top][r * wt + j] - pa);
            }
            grad[prior + j] = (float) s;
        }
        for (int l = 0; l < top; l++) {
            int wo = spec.width(l), wi = spec.width(l + 1);
            float[] d = w.generativeLogits[l];
            VMath.sigmoid(d, 0, d, 0, rows * wo);
            deltas(d, w.h[l], w.rowScale, rows, wo);
            w.gemm.gemm(grad, gW[l], wi, true, false, wo, wi, rows, 1f, d, 0, wo, w.h[l + 1], 0, wi, 0f);
            Reductions.colSums(grad, gB[l], d, 0, rows, wo, false);
        }
    }

    /**
     * recognitionGradient (+)= sum_r rowScale[r] d log q(h_r | x_r) / d theta_q for the states in h
     * and the probabilities in recognitionProbabilities (from {@link #recognize} or
     * {@link #recognitionProbabilities}, which it turns into deltas): dR_l = sum_r s_r (h_{l+1} - q_{l+1}) h_l^T,
     * dc_l = sum_r s_r (h_{l+1} - q_{l+1}). {@code accumulate} adds to the gradient already there.
     */
    public void recognitionGradient(Workspace w, int rows, boolean accumulate) {
        checkRows(w, rows);
        float[] grad = w.recognitionGradient;
        for (int l = 0; l + 1 < spec.depth(); l++) {
            int wi = spec.width(l), wo = spec.width(l + 1);
            float[] d = w.recognitionProbabilities[l + 1];
            deltas(d, w.h[l + 1], w.rowScale, rows, wo);
            w.gemm.gemm(grad, rW[l], wi, true, false, wo, wi, rows, 1f, d, 0, wo, w.h[l], 0, wi, accumulate ? 1f : 0f);
            Reductions.colSums(grad, rB[l], d, 0, rows, wo, accumulate);
        }
    }

    /** d[r][j] = s[r] (h[r][j] - d[r][j]) in place (d holds probabilities). */
    private static void deltas(float[] d, float[] h, float[] s, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float sr = s[r];
            for (int i = r * cols, end = i + cols; i < end; i++) {
                d[i] = sr * (h[i] - d[i]);
            }
        }
    }

    // ------------------------------------------------------------------ evaluation

    /** Per-row estimates of log p(x) from K importance samples and the mean of the K log weights (the variational bound). */
    public record Estimate(double[] logLikelihood, double[] bound) {
        public double meanLogLikelihood() {
            return mean(logLikelihood);
        }

        public double meanBound() {
            return mean(bound);
        }

        private static double mean(double[] v) {
            double s = 0;
            for (double x : v) {
                s += x;
            }
            return s / v.length;
        }
    }

    /**
     * For each row x of {@code x} (rows x visible, binary values), log p(x) ~ log (1/K) sum_k w_k
     * with w_k = p(x, h^k) / q(h^k | x) for K samples h^k ~ q(h | x), by logsumexp in double,
     * and the bound (1/K) sum_k log w_k (its mean is the ELBO). The estimate is below log p(x) on
     * average (Jensen) and tightens as K grows. Sample k of row r is drawn from streams of
     * (seed) at row index r K + k, whatever the split into passes.
     */
    public Estimate logLikelihood(float[] x, int rows, int samples, long seed, Parallelism par) {
        if (samples < 1 || samples > MAX_SAMPLES) {
            throw new IllegalArgumentException("importance samples per row must be from 1 to " + MAX_SAMPLES + ", got " + samples);
        }
        int d = spec.visible();
        if (rows <= 0 || x.length < (long) rows * d) {
            throw new IllegalArgumentException("log p(x): " + rows + " rows of " + d + " units need " + (long) rows * d + " values, got " + x.length);
        }
        int perPass = Math.max(1, Math.min(rows, 4096 / samples));
        Workspace w = new Workspace(this, perPass * samples, par, false);
        double[] ll = new double[rows], bound = new double[rows], lw = new double[perPass * samples];
        for (int start = 0; start < rows; start += perPass) {
            int n = Math.min(perPass, rows - start), m = n * samples;
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < samples; k++) {
                    System.arraycopy(x, (start + r) * d, w.h[0], (r * samples + k) * d, d);
                }
            }
            recognize(w, m, true, seed, SCORE_STREAM, (long) start * samples);
            scoreGenerative(w, m);
            for (int i = 0; i < m; i++) {
                lw[i] = w.logP[i] - w.logQ[i];
            }
            for (int r = 0; r < n; r++) {
                ll[start + r] = Bernoulli.logSumExp(lw, r * samples, samples) - Math.log(samples);
                double s = 0;
                for (int k = 0; k < samples; k++) {
                    s += lw[r * samples + k];
                }
                bound[start + r] = s / samples;
            }
        }
        return new Estimate(ll, bound);
    }

    // ------------------------------------------------------------------ LatentModel

    @Override
    public String kind() {
        return "helmholtz";
    }

    @Override
    public int inputDim() {
        return spec.visible();
    }

    /** The top layer's width. */
    @Override
    public int latentDim() {
        return spec.top();
    }

    private float[] flat(float[][] rows, int width, String what) {
        float[] out = new float[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != width) {
                throw new IllegalArgumentException(what + ": row " + r + " has " + (rows[r] == null ? "no" : rows[r].length)
                        + " values but the Helmholtz machine takes " + width);
            }
            System.arraycopy(rows[r], 0, out, r * width, width);
        }
        return out;
    }

    private static float[][] unflat(float[] x, int rows, int width) {
        float[][] out = new float[rows][width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(x, r * width, out[r], 0, width);
        }
        return out;
    }

    /** The top layer's probabilities by a mean-field recognition pass (probabilities in place of samples), one row per input. */
    @Override
    public float[][] encode(float[][] x) {
        if (x.length == 0) {
            return new float[0][];
        }
        Workspace w = new Workspace(this, x.length, Parallelism.serial(), false);
        System.arraycopy(flat(x, spec.visible(), "encode"), 0, w.h[0], 0, x.length * spec.visible());
        recognize(w, x.length, false, 0, 0, 0);
        return unflat(w.h[spec.depth() - 1], x.length, spec.top());
    }

    /** Visible probabilities of a mean-field generative pass down from top-layer values z (probabilities or states). */
    @Override
    public float[][] decode(float[][] z) {
        if (z.length == 0) {
            return new float[0][];
        }
        Workspace w = new Workspace(this, z.length, Parallelism.serial(), false);
        int top = spec.depth() - 1;
        System.arraycopy(flat(z, spec.top(), "decode"), 0, w.h[top], 0, z.length * spec.top());
        for (int l = top - 1; l >= 0; l--) {
            int wi = spec.width(l + 1), wo = spec.width(l);
            affine(w, w.generativeLogits[l], w.h[l + 1], z.length, wi, wo, generative, gW[l], gB[l]);
            VMath.sigmoid(w.h[l], 0, w.generativeLogits[l], 0, z.length * wo);
        }
        return unflat(w.h[0], z.length, spec.visible());
    }

    /** x -> q -> p: decode(encode(x)), mean field both ways. */
    @Override
    public float[][] reconstruct(float[][] x) {
        return decode(encode(x));
    }

    /**
     * n ancestral dreams: h_L from the prior, each layer sampled down to h_1, and the visible
     * layer's probabilities p(x | h_1) returned (the images one shows). Same seed, same rows.
     */
    @Override
    public float[][] sample(int n, long seed) {
        if (n <= 0) {
            throw new IllegalArgumentException("sample: n must be positive, got " + n);
        }
        Workspace w = new Workspace(this, n, Parallelism.serial(), false);
        dream(w, n, true, seed, SAMPLE_STREAM, 0);
        return unflat(w.generativeLogits[0], n, spec.visible());
    }

    /**
     * The anomaly score -log p(x), estimated with {@link #SCORE_SAMPLES} importance samples
     * from q (a fixed seed, so the same rows give the same scores). Rows are taken as binary:
     * values in [0, 1] enter the Bernoulli terms as they are.
     */
    @Override
    public double[] score(float[][] x) {
        return score(x, SCORE_SAMPLES, 0);
    }

    /** -log p(x) of each row from K importance samples drawn from the seed's streams. */
    public double[] score(float[][] x, int samples, long seed) {
        if (x.length == 0) {
            return new double[0];
        }
        double[] ll = logLikelihood(flat(x, spec.visible(), "score"), x.length, samples, seed, Parallelism.serial()).logLikelihood();
        for (int i = 0; i < ll.length; i++) {
            ll[i] = -ll[i];
        }
        return ll;
    }

    @Override
    public String summary() {
        StringBuilder sb = new StringBuilder(spec.describe()).append('\n');
        for (int l = 0; l + 1 < spec.depth(); l++) {
            sb.append(String.format(Locale.ROOT, "  recognition.%d  q(h%d | h%d)  %d -> %d%n", l, l + 1, l, spec.width(l), spec.width(l + 1)));
        }
        sb.append(String.format(Locale.ROOT, "  prior.logits    p(h%d)        %d%n", spec.depth() - 1, spec.top()));
        for (int l = spec.depth() - 2; l >= 0; l--) {
            sb.append(String.format(Locale.ROOT, "  generative.%d   p(h%d | h%d)  %d -> %d%n", l, l, l + 1, spec.width(l + 1), spec.width(l)));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ files

    /** The tensors with PyTorch-style names and (out, in) shapes, viewing the arenas. */
    public List<SafeTensors.Entry> tensors() {
        List<SafeTensors.Entry> out = new ArrayList<>();
        for (int l = 0; l + 1 < spec.depth(); l++) {
            int a = spec.width(l), b = spec.width(l + 1);
            out.add(new SafeTensors.Entry("recognition." + l + ".weight", new int[] {b, a}, recognition, rW[l]));
            out.add(new SafeTensors.Entry("recognition." + l + ".bias", new int[] {b}, recognition, rB[l]));
        }
        for (int l = 0; l + 1 < spec.depth(); l++) {
            int a = spec.width(l), b = spec.width(l + 1);
            out.add(new SafeTensors.Entry("generative." + l + ".weight", new int[] {a, b}, generative, gW[l]));
            out.add(new SafeTensors.Entry("generative." + l + ".bias", new int[] {a}, generative, gB[l]));
        }
        out.add(new SafeTensors.Entry("prior.logits", new int[] {spec.top()}, generative, prior));
        return out;
    }

    @Override
    public void save(Path file, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> md = new LinkedHashMap<>();
        md.put(SPEC_KEY, spec.toJson());
        md.put("format", "pt");
        SafeTensors.write(file, Models.withExtra(md, extraMetadata), tensors());
    }

    public static HelmholtzMachine load(Path file) throws IOException {
        return from(SafeTensors.read(file), file);
    }

    /** The machine in a file's checked contents: the spec from the metadata, every tensor present with its shape and finite. */
    public static HelmholtzMachine from(SafeTensors.Contents c, Path file) throws IOException {
        String json = c.metadata().get(SPEC_KEY);
        if (json == null) {
            throw new IOException(file + ": no Helmholtz machine spec in the metadata (key " + SPEC_KEY + ")");
        }
        HelmholtzSpec spec;
        int[] sizes;
        try {
            spec = HelmholtzSpec.fromJson(json);
            sizes = sizes(spec);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the Helmholtz spec (metadata " + SPEC_KEY + ") is not valid: " + e.getMessage(), e);
        }
        // Shapes are checked against the file's tensors (already read) before the arenas are allocated.
        for (int l = 0; l + 1 < spec.depth(); l++) {
            int a = spec.width(l), b = spec.width(l + 1);
            check(c, file, "recognition." + l + ".weight", new int[] {b, a});
            check(c, file, "recognition." + l + ".bias", new int[] {b});
            check(c, file, "generative." + l + ".weight", new int[] {a, b});
            check(c, file, "generative." + l + ".bias", new int[] {a});
        }
        check(c, file, "prior.logits", new int[] {spec.top()});
        HelmholtzMachine m = new HelmholtzMachine(spec, new float[sizes[0]], new float[sizes[1]]);
        for (SafeTensors.Entry e : m.tensors()) {
            SafeTensors.Entry f = c.tensors().get(e.name());
            int n = (int) e.count();
            System.arraycopy(f.data(), f.offset(), e.data(), e.offset(), n);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(e.data()[e.offset() + i])) {
                    throw new IOException(file + ": tensor " + e.name() + " holds " + e.data()[e.offset() + i] + " at element " + i);
                }
            }
        }
        return m;
    }

    private static void check(SafeTensors.Contents c, Path file, String name, int[] shape) throws IOException {
        SafeTensors.Entry e = c.tensors().get(name);
        if (e == null) {
            throw new IOException(file + ": tensor " + name + " is missing");
        }
        if (!Arrays.equals(e.shape(), shape)) {
            throw new IOException(file + ": tensor " + name + " has shape " + Arrays.toString(e.shape()) + " but the spec needs "
                    + Arrays.toString(shape));
        }
    }
}
