package org.latent4j.dsl;

import org.latent4j.kernel.Activation;

/**
 * The bottleneck, one record per kind with its own named parameters: a deterministic code
 * ({@link Deterministic}, a plain autoencoder) or a diagonal Gaussian posterior N(mu, exp(logvar))
 * with a N(0, I) prior ({@link Gaussian}, a VAE). Every switch over the kinds is exhaustive
 * (sealed, no default), so a new kind cannot compile without its JSON form, its summary rows and
 * its graph.
 */
public sealed interface LatentSpec permits LatentSpec.Deterministic, LatentSpec.Gaussian, LatentSpec.VectorQuantized,
        LatentSpec.FiniteScalar {
    /** Values of the code per sample (the latent width the decoder reads). */
    int dim();

    /** The kind's name in a model file's JSON ("deterministic", "gaussian"). */
    String kindName();

    /** A deterministic code of {@code dim} linear units without a penalty. */
    static Deterministic deterministic(int dim) {
        return new Deterministic(dim, Activation.IDENTITY, 0f);
    }

    /** A Gaussian latent of {@code dim} dimensions without a log-variance clamp. */
    static Gaussian gaussian(int dim) {
        return new Gaussian(dim, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
    }

    /** A vector-quantized latent of {@code codes} codes of {@code dim} values with the defaults (beta 0.25, EMA 0.99, revival 0.03). */
    static VectorQuantized vectorQuantized(int codes, int dim) {
        return new VectorQuantized(codes, dim, 0.25f, true, 0.99f, 0.03f, false, 0, 0);
    }

    private static void checkDim(int dim) {
        if (dim <= 0) {
            throw new IllegalArgumentException("latent dimension must be positive, got " + dim);
        }
    }

    /**
     * A deterministic code h = act(W a + b) of {@code dim} units.
     *
     * @param activation  the code's activation (IDENTITY: linear, TANH, SIGMOID)
     * @param contractive weight of the contractive penalty (0: none): {@code contractive * ||dh/da||_F^2
     *                    = contractive * sum_j act'_j^2 ||W_j||^2} per sample, the Jacobian of the code
     *                    with respect to the layer below it (the whole encoder's Jacobian when the
     *                    encoder has no hidden layer, as in Rifai et al. 2011)
     */
    record Deterministic(int dim, Activation activation, float contractive) implements LatentSpec {
        public Deterministic {
            checkDim(dim);
            if (activation != Activation.IDENTITY && activation != Activation.TANH && activation != Activation.SIGMOID) {
                throw new IllegalArgumentException("the code's activation must be identity (linear), tanh or sigmoid, got " + activation);
            }
            if (!(contractive >= 0f && Float.isFinite(contractive))) {
                throw new IllegalArgumentException("contractive(" + contractive + "): the penalty weight must be finite and not negative");
            }
        }

        @Override
        public String kindName() {
            return "deterministic";
        }

        Deterministic withActivation(Activation a) {
            return new Deterministic(dim, a, contractive);
        }

        Deterministic withContractive(float w) {
            return new Deterministic(dim, activation, w);
        }
    }

    /**
     * A diagonal Gaussian posterior of {@code dim} dimensions (heads fc_mu and fc_logvar, z drawn by
     * reparameterization).
     *
     * @param logvarMin lower clamp of the log-variance (-infinity: none)
     * @param logvarMax upper clamp (+infinity: none); outside the clamp the gradient is zero
     */
    record Gaussian(int dim, float logvarMin, float logvarMax) implements LatentSpec {
        public Gaussian {
            checkDim(dim);
            if (Float.isNaN(logvarMin) || Float.isNaN(logvarMax) || !(logvarMin < logvarMax)) {
                throw new IllegalArgumentException("clampLogVariance(" + logvarMin + ", " + logvarMax + "): need min < max");
            }
        }

        @Override
        public String kindName() {
            return "gaussian";
        }

        /** True when the log-variance is clamped. */
        public boolean clampsLogVariance() {
            return logvarMin != Float.NEGATIVE_INFINITY || logvarMax != Float.POSITIVE_INFINITY;
        }
    }

    /**
     * A vector-quantized latent (VQ-VAE, van den Oord et al. 2017): the encoder's output is projected
     * to {@code dim} channels per position (a 1x1 convolution on a code grid, a dense layer on a flat
     * code), each position's vector replaced by its nearest of {@code codes} codes, and the decoder
     * reads the codes; the gradient passes straight through. Objective: reconstruction + ||sg(z_e) -
     * e||^2 + beta ||z_e - sg(e)||^2, summed over positions and channels.
     *
     * @param beta          the commitment loss's weight (0.25)
     * @param ema           true: the codebook follows exponential moving averages of its assigned
     *                      encoder outputs (Laplace-smoothed cluster sizes) and the codebook loss is
     *                      reported only; false: the codebook is trained by the codebook loss's gradient
     * @param decay         the moving averages' decay (0.99), also of the usage kept with gradient updates
     * @param deadThreshold a code whose moving-average usage falls below this fraction of the mean
     *                      usage is re-seeded from a random encoder output of the batch, its moving
     *                      averages reset (0: never)
     * @param cosine        the nearest code by cosine similarity instead of squared distance
     * @param kmeansIterations k-means initialization of the codebook on the first training batch's encoder
     *                      outputs: this many Lloyd iterations from codes drawn among them (0: none)
     * @param codebookDim   a lower-dimensional lookup (0: none): z_e projected to codebookDim values per
     *                      position, quantized there, and the codes projected back to dim
     *                      (quantizer.project_out) for the decoder
     */
    record VectorQuantized(int codes, int dim, float beta, boolean ema, float decay, float deadThreshold, boolean cosine,
                           int kmeansIterations, int codebookDim) implements LatentSpec {
        public VectorQuantized {
            if (codes < 2 || codes > 1 << 16) {
                throw new IllegalArgumentException("vectorQuantized(" + codes + ", " + dim + "): the codebook needs 2 to 65536 codes");
            }
            checkDim(dim);
            if (!(beta >= 0f && Float.isFinite(beta))) {
                throw new IllegalArgumentException("commitment(" + beta + "): beta must be finite and not negative");
            }
            if (!(decay > 0f && decay < 1f)) {
                throw new IllegalArgumentException("emaDecay(" + decay + "): the decay must be in (0, 1)");
            }
            if (!(deadThreshold >= 0f && deadThreshold < 1f)) {
                throw new IllegalArgumentException("deadCodeThreshold(" + deadThreshold + "): the fraction of the mean usage must be in [0, 1)");
            }
            if (kmeansIterations < 0 || kmeansIterations > 100) {
                throw new IllegalArgumentException("kmeansInit(" + kmeansIterations + "): 0 to 100 Lloyd iterations");
            }
            if (codebookDim < 0 || codebookDim > dim) {
                throw new IllegalArgumentException("codebookDim(" + codebookDim + "): the lookup needs 1 to " + dim + " values (0: dim itself)");
            }
        }

        @Override
        public String kindName() {
            return "vector_quantized";
        }

        /** Values per code: codebookDim, or dim without a lower-dimensional lookup. */
        public int lookupDim() {
            return codebookDim > 0 ? codebookDim : dim;
        }

        /** log2(codes): bits of one position's index. */
        public double bitsPerPosition() {
            return Math.log(codes) / Math.log(2);
        }
    }

    /**
     * Finite scalar quantization (FSQ, Mentzer et al. 2023): the encoder's output is projected to one
     * channel per entry of {@code levels}, channel c bounded and rounded to levels[c] values; the
     * implicit codebook has prod(levels) codes, with no codebook loss and nothing to tune.
     */
    record FiniteScalar(java.util.List<Integer> levels) implements LatentSpec {
        public FiniteScalar {
            if (levels == null || levels.isEmpty()) {
                throw new IllegalArgumentException("finiteScalar(): give the levels of each channel, e.g. 8, 5, 5, 5");
            }
            levels = java.util.List.copyOf(levels);
            long product = 1;
            for (int l : levels) {
                if (l < 2 || l > 256) {
                    throw new IllegalArgumentException("finiteScalar" + levels + ": each channel needs 2 to 256 levels, got " + l);
                }
                product *= l;
            }
            if (product > 1 << 24) {
                throw new IllegalArgumentException("finiteScalar" + levels + ": " + product + " codes are more than 2^24");
            }
        }

        @Override
        public int dim() {
            return levels.size();
        }

        @Override
        public String kindName() {
            return "finite_scalar";
        }

        /** The size of the implicit codebook, prod(levels). */
        public int codes() {
            int p = 1;
            for (int l : levels) {
                p *= l;
            }
            return p;
        }

        /** The levels as an int array (a copy). */
        public int[] levelArray() {
            return levels.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
