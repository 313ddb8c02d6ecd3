package org.latent4j.graph;

/**
 * One lowered step of a plan: which kernel sequence to run ({@link Kind}) for which node.
 * {@code accumulate} on a backward step means the gradient of the node's input already holds a
 * contribution from another consumer, so this step adds to it instead of overwriting.
 */
public record Step(Kind kind, int node, boolean accumulate) {
    /** The executable step kinds: forward of each op, then the backward rules. */
    public enum Kind {
        DENSE_FORWARD, MATMUL_FORWARD, BIAS_ADD_FORWARD, ACTIVATION_FORWARD, REPARAMETERIZE_FORWARD, KL_FORWARD,
        BERNOULLI_NLL_FORWARD, GAUSSIAN_NLL_FORWARD, HUBER_FORWARD, CONCAT_FORWARD, NOISE_FORWARD, CLAMP_FORWARD,
        SPARSITY_FORWARD, ACTIVITY_L1_FORWARD, CONTRACTIVE_FORWARD, BATCH_NORM_FORWARD,
        BERNOULLI_NLL_BACKWARD, GAUSSIAN_NLL_BACKWARD, HUBER_BACKWARD, REPARAMETERIZE_KL_BACKWARD,
        DENSE_BACKWARD, MATMUL_BACKWARD, BIAS_ADD_BACKWARD, ACTIVATION_BACKWARD, CONCAT_BACKWARD, NOISE_BACKWARD,
        CLAMP_BACKWARD, SPARSITY_BACKWARD, ACTIVITY_L1_BACKWARD, CONTRACTIVE_BACKWARD, BATCH_NORM_BACKWARD,
        /** The contractive penalty's own term in its weight's gradient, after the layer's backward wrote that gradient. */
        CONTRACTIVE_WEIGHT_BACKWARD;

        /** True for the steps of the backward pass (they write gradients, not values). */
        public boolean isBackward() {
            return switch (this) {
                case DENSE_FORWARD, MATMUL_FORWARD, BIAS_ADD_FORWARD, ACTIVATION_FORWARD, REPARAMETERIZE_FORWARD, KL_FORWARD,
                     BERNOULLI_NLL_FORWARD, GAUSSIAN_NLL_FORWARD, HUBER_FORWARD, CONCAT_FORWARD, NOISE_FORWARD, CLAMP_FORWARD,
                     SPARSITY_FORWARD, ACTIVITY_L1_FORWARD, CONTRACTIVE_FORWARD, BATCH_NORM_FORWARD -> false;
                case BERNOULLI_NLL_BACKWARD, GAUSSIAN_NLL_BACKWARD, HUBER_BACKWARD, REPARAMETERIZE_KL_BACKWARD,
                     DENSE_BACKWARD, MATMUL_BACKWARD, BIAS_ADD_BACKWARD, ACTIVATION_BACKWARD, CONCAT_BACKWARD, NOISE_BACKWARD,
                     CLAMP_BACKWARD, SPARSITY_BACKWARD, ACTIVITY_L1_BACKWARD, CONTRACTIVE_BACKWARD, CONTRACTIVE_WEIGHT_BACKWARD,
                     BATCH_NORM_BACKWARD -> true;
            };
        }
    }
}
