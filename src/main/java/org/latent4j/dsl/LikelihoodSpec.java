package org.latent4j.dsl;

/**
 * The decoder's output distribution p(x | z): Bernoulli on logits (inputs in [0, 1]), or a
 * Gaussian with a fixed variance (squared error scaled by 1 / (2 variance)) or with a learned
 * log-variance per feature.
 */
public record LikelihoodSpec(Kind kind, float variance) {
    public enum Kind { BERNOULLI, GAUSSIAN_FIXED, GAUSSIAN_LEARNED }

    public LikelihoodSpec {
        if (kind == null) {
            throw new IllegalArgumentException("likelihood kind must not be null");
        }
        if (kind == Kind.GAUSSIAN_FIXED && !(variance > 0f && Float.isFinite(variance))) {
            throw new IllegalArgumentException("gaussian likelihood needs a positive finite variance, got " + variance);
        }
    }

    public String describe() {
        return switch (kind) {
            case BERNOULLI -> "bernoulli";
            case GAUSSIAN_FIXED -> "gaussian(variance=" + variance + ")";
            case GAUSSIAN_LEARNED -> "gaussian(learned variance)";
        };
    }
}
