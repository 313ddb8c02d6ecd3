package org.latent4j.dsl;

/**
 * The bottleneck: a deterministic code of {@code dim} units (plain autoencoder) or a diagonal
 * Gaussian posterior N(mu, exp(logvar)) of {@code dim} dimensions with a N(0, I) prior (VAE).
 */
public record LatentSpec(Kind kind, int dim) {
    public enum Kind { DETERMINISTIC, GAUSSIAN }

    public LatentSpec {
        if (kind == null) {
            throw new IllegalArgumentException("latent kind must not be null");
        }
        if (dim <= 0) {
            throw new IllegalArgumentException("latent dimension must be positive, got " + dim);
        }
    }
}
