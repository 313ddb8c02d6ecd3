package org.latent4j.graph;

/**
 * The closed set of graph operations. Shape inference ({@link Graph#infer}), lowering to plan
 * steps ({@link Planner}) and reverse-mode autodiff ({@link Planner}) each handle every op in one
 * {@code switch} without a default, so a new op does not compile until every table has it.
 *
 * <p>Primitive ops come from the model spec; {@link #DENSE} is what {@link Graph#fuse()} makes of
 * a MATMUL followed by BIAS_ADD and an optional ACTIVATION. Shapes are (batch, features).
 */
public enum Op {
    /** The data batch x: (B, D). */
    INPUT,
    /** x W^T for a weight W of shape (out, in): (B, in) -> (B, out). */
    MATMUL,
    /** x + b, b of shape (features). */
    BIAS_ADD,
    /** An element-wise activation. */
    ACTIVATION,
    /** Fused x W^T + b and activation. */
    DENSE,
    /** z = mu + exp(logvar / 2) eps, eps ~ N(0, I) from the counter-based generator. */
    REPARAMETERIZE,
    /** Per-sample KL(N(mu, exp(logvar)) || N(0, I)): (B, Z) x (B, Z) -> (B). */
    KL_STANDARD_NORMAL,
    /** Per-sample -log p(x | logits) under a Bernoulli: (B, D) -> (B). */
    BERNOULLI_NLL,
    /** Per-sample -log p(x | mean) under N(mean, variance I), variance fixed, learned per feature or learned once: (B, D) -> (B). */
    GAUSSIAN_NLL,
    /** Per-sample Huber loss of (output - input) with the likelihood's threshold: (B, D) -> (B). */
    HUBER_LOSS,
    /** Joins two inputs feature-wise: (B, a) x (B, c) -> (B, a + c) (a condition joined to x or to z). */
    CONCAT,
    /** Training-only noise of the node's layer (gaussian, masking, salt and pepper, dropout); identity at inference. */
    NOISE,
    /** The latent log-variance clamped to the spec's [logvarMin, logvarMax]; zero gradient outside. */
    CLAMP,
    /** Sparsity penalty weight * sum_j KL(rho || batch mean of unit j), the same value in every row: (B, H) -> (B). */
    SPARSITY_KL,
    /** Activity penalty weight * sum_j |h_j| per sample: (B, H) -> (B). */
    ACTIVITY_L1,
    /** Contractive penalty weight * sum_j act'(h_j)^2 ||W_j||^2 per sample on the code node h = act(W a + b): (B, Z) -> (B). */
    CONTRACTIVE,
    /** Batch normalization with a learned scale and shift; batch statistics in training, running ones at inference: (B, H) -> (B, H). */
    BATCH_NORM;

    /** True for the terms of the training objective: the reconstruction losses and the penalties (not KL, folded into reparameterization). */
    public boolean isObjective() {
        return switch (this) {
            case BERNOULLI_NLL, GAUSSIAN_NLL, HUBER_LOSS, SPARSITY_KL, ACTIVITY_L1, CONTRACTIVE -> true;
            case INPUT, MATMUL, BIAS_ADD, ACTIVATION, DENSE, REPARAMETERIZE, KL_STANDARD_NORMAL, CONCAT, NOISE, CLAMP, BATCH_NORM -> false;
        };
    }

    /** True for the penalty terms (regularizers added to the objective but not to the -ELBO). */
    public boolean isPenalty() {
        return switch (this) {
            case SPARSITY_KL, ACTIVITY_L1, CONTRACTIVE -> true;
            case INPUT, MATMUL, BIAS_ADD, ACTIVATION, DENSE, REPARAMETERIZE, KL_STANDARD_NORMAL, BERNOULLI_NLL, GAUSSIAN_NLL,
                 HUBER_LOSS, CONCAT, NOISE, CLAMP, BATCH_NORM -> false;
        };
    }
}
