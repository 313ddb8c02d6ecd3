package org.latent4j.dsl;

/**
 * The decoder's output distribution p(x | z), or the reconstruction loss that stands for it, one
 * record per kind with its own parameters: {@link Bernoulli} on logits (inputs in [0, 1]); a
 * Gaussian with a fixed variance ({@link GaussianFixed}: squared error scaled by 1 / (2 variance)),
 * with a learned log-variance per feature ({@link GaussianLearned}) or one learned log-variance
 * shared by all features ({@link GaussianLearnedGlobal}); or the Huber loss with threshold delta
 * ({@link Huber}: squared error near 0, absolute error beyond, robust to outliers; not a
 * likelihood, so "-ELBO" then means Huber loss + KL). Switches over the kinds are exhaustive.
 */
public sealed interface LikelihoodSpec permits LikelihoodSpec.Bernoulli, LikelihoodSpec.GaussianFixed, LikelihoodSpec.GaussianLearned,
        LikelihoodSpec.GaussianLearnedGlobal, LikelihoodSpec.Huber {

    /** The kind's name in a model file's JSON ("bernoulli", "gaussian_fixed", ...). */
    String kindName();

    /** The likelihood in words, e.g. "gaussian(variance=1.0)". */
    String describe();

    /** Bernoulli pixels on the decoder's outputs as logits. */
    record Bernoulli() implements LikelihoodSpec {
        @Override
        public String kindName() {
            return "bernoulli";
        }

        @Override
        public String describe() {
            return "bernoulli";
        }
    }

    /** A Gaussian of a fixed {@code variance} around the decoder's output. */
    record GaussianFixed(float variance) implements LikelihoodSpec {
        public GaussianFixed {
            if (!(variance > 0f && Float.isFinite(variance))) {
                throw new IllegalArgumentException("gaussian likelihood needs a positive finite variance, got " + variance);
            }
        }

        @Override
        public String kindName() {
            return "gaussian_fixed";
        }

        @Override
        public String describe() {
            return "gaussian(variance=" + variance + ")";
        }
    }

    /** A Gaussian with a learned log-variance per output feature (parameter decoder_logvar). */
    record GaussianLearned() implements LikelihoodSpec {
        @Override
        public String kindName() {
            return "gaussian_learned";
        }

        @Override
        public String describe() {
            return "gaussian(learned variance per feature)";
        }
    }

    /** A Gaussian with one learned log-variance shared by every output feature. */
    record GaussianLearnedGlobal() implements LikelihoodSpec {
        @Override
        public String kindName() {
            return "gaussian_learned_global";
        }

        @Override
        public String describe() {
            return "gaussian(one learned variance)";
        }
    }

    /** The Huber loss with threshold {@code delta}. */
    record Huber(float delta) implements LikelihoodSpec {
        public Huber {
            if (!(delta > 0f && Float.isFinite(delta))) {
                throw new IllegalArgumentException("huber loss needs a positive finite threshold delta, got " + delta);
            }
        }

        @Override
        public String kindName() {
            return "huber";
        }

        @Override
        public String describe() {
            return "huber(delta=" + delta + ")";
        }
    }
}
