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
    /** Per-sample -log p(x | mean) under N(mean, variance I), variance fixed or learned per feature: (B, D) -> (B). */
    GAUSSIAN_NLL
}
