package org.latent4j.dsl;

/**
 * The decoder's output distribution p(x | z), or the reconstruction loss that stands for it:
 * Bernoulli on logits (inputs in [0, 1]); a Gaussian with a fixed variance ({@code parameter},
 * squared error scaled by 1 / (2 variance)), with a learned log-variance per feature, or with
 * one learned log-variance shared by all features; or the Huber loss with threshold
 * {@code parameter} (squared error near 0, absolute error beyond: robust to outliers; not a
 * likelihood, so "-ELBO" then means Huber loss + KL).
 */
public record LikelihoodSpec(Kind kind, float parameter) {
    public enum Kind { BERNOULLI, GAUSSIAN_FIXED, GAUSSIAN_LEARNED, GAUSSIAN_LEARNED_GLOBAL, HUBER }

    public LikelihoodSpec {
        if (kind == null) {
            throw new IllegalArgumentException("likelihood kind must not be null");
        }
        if (kind == Kind.GAUSSIAN_FIXED && !(parameter > 0f && Float.isFinite(parameter))) {
            throw new IllegalArgumentException("gaussian likelihood needs a positive finite variance, got " + parameter);
        }
        if (kind == Kind.HUBER && !(parameter > 0f && Float.isFinite(parameter))) {
            throw new IllegalArgumentException("huber loss needs a positive finite threshold delta, got " + parameter);
        }
    }

    /** The fixed variance of GAUSSIAN_FIXED. */
    public float variance() {
        return parameter;
    }

    /** The threshold of HUBER. */
    public float delta() {
        return parameter;
    }

    /** True when the spec carries a number of its own (a variance or a threshold). */
    public boolean hasParameter() {
        return switch (kind) {
            case GAUSSIAN_FIXED, HUBER -> true;
            case BERNOULLI, GAUSSIAN_LEARNED, GAUSSIAN_LEARNED_GLOBAL -> false;
        };
    }

    public String describe() {
        return switch (kind) {
            case BERNOULLI -> "bernoulli";
            case GAUSSIAN_FIXED -> "gaussian(variance=" + parameter + ")";
            case GAUSSIAN_LEARNED -> "gaussian(learned variance per feature)";
            case GAUSSIAN_LEARNED_GLOBAL -> "gaussian(one learned variance)";
            case HUBER -> "huber(delta=" + parameter + ")";
        };
    }
}
