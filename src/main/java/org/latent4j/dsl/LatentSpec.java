package org.latent4j.dsl;

import org.latent4j.kernel.Activation;

/**
 * The bottleneck: a deterministic code of {@code dim} units (plain autoencoder) or a diagonal
 * Gaussian posterior N(mu, exp(logvar)) of {@code dim} dimensions with a N(0, I) prior (VAE).
 *
 * @param activation  the deterministic code's activation (IDENTITY: linear, TANH, SIGMOID)
 * @param contractive weight of the contractive penalty (0: none) on a deterministic code h =
 *                    act(W a + b): {@code contractive * ||dh/da||_F^2 = contractive * sum_j act'_j^2
 *                    ||W_j||^2} per sample, the Jacobian of the code with respect to the layer
 *                    below it (the whole encoder's Jacobian when the encoder has no hidden layer,
 *                    as in Rifai et al. 2011)
 * @param logvarMin   lower clamp of a Gaussian latent's log-variance (-infinity: none)
 * @param logvarMax   upper clamp (+infinity: none); outside the clamp the gradient is zero
 */
public record LatentSpec(Kind kind, int dim, Activation activation, float contractive, float logvarMin, float logvarMax) {
    public enum Kind { DETERMINISTIC, GAUSSIAN }

    public LatentSpec(Kind kind, int dim) {
        this(kind, dim, Activation.IDENTITY, 0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
    }

    public LatentSpec {
        if (kind == null) {
            throw new IllegalArgumentException("latent kind must not be null");
        }
        if (dim <= 0) {
            throw new IllegalArgumentException("latent dimension must be positive, got " + dim);
        }
        if (activation != Activation.IDENTITY && activation != Activation.TANH && activation != Activation.SIGMOID) {
            throw new IllegalArgumentException("the code's activation must be identity (linear), tanh or sigmoid, got " + activation);
        }
        if (kind == Kind.GAUSSIAN && (activation != Activation.IDENTITY || contractive != 0f)) {
            throw new IllegalArgumentException("a Gaussian latent takes no activation and no contractive penalty (they are for latent(dim))");
        }
        if (!(contractive >= 0f && Float.isFinite(contractive))) {
            throw new IllegalArgumentException("contractive(" + contractive + "): the penalty weight must be finite and not negative");
        }
        if (Float.isNaN(logvarMin) || Float.isNaN(logvarMax) || !(logvarMin < logvarMax)) {
            throw new IllegalArgumentException("clampLogVariance(" + logvarMin + ", " + logvarMax + "): need min < max");
        }
        if (kind == Kind.DETERMINISTIC && (logvarMin != Float.NEGATIVE_INFINITY || logvarMax != Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("a deterministic latent has no log-variance to clamp");
        }
    }

    /** True when the log-variance is clamped. */
    public boolean clampsLogVariance() {
        return logvarMin != Float.NEGATIVE_INFINITY || logvarMax != Float.POSITIVE_INFINITY;
    }

    LatentSpec withActivation(Activation a) {
        return new LatentSpec(kind, dim, a, contractive, logvarMin, logvarMax);
    }

    LatentSpec withContractive(float w) {
        return new LatentSpec(kind, dim, activation, w, logvarMin, logvarMax);
    }

    LatentSpec withLogVarianceClamp(float min, float max) {
        return new LatentSpec(kind, dim, activation, contractive, min, max);
    }
}
