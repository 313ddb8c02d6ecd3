package org.latent4j.dsl;

import org.latent4j.kernel.Activation;

/**
 * The bottleneck, one record per kind with its own named parameters: a deterministic code
 * ({@link Deterministic}, a plain autoencoder) or a diagonal Gaussian posterior N(mu, exp(logvar))
 * with a N(0, I) prior ({@link Gaussian}, a VAE). Every switch over the kinds is exhaustive
 * (sealed, no default), so a new kind cannot compile without its JSON form, its summary rows and
 * its graph.
 */
public sealed interface LatentSpec permits LatentSpec.Deterministic, LatentSpec.Gaussian {
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
}
