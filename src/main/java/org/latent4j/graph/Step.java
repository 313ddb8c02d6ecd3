package org.latent4j.graph;

/**
 * One step of a plan: the forward or the backward rule of one node's op. For a backward step,
 * bit k of {@code gradientInputs} says that input k receives its gradient here, bit k of
 * {@code accumulateInputs} that input k's gradient already holds another consumer's part (add
 * to it instead of overwriting), and bit k of {@code accumulateParams} the same for the node's
 * k-th parameter gradient (a tensor shared by several nodes).
 */
public record Step(int node, boolean backward, long gradientInputs, long accumulateInputs, long accumulateParams) {
    public static Step forward(int node) {
        return new Step(node, false, 0, 0, 0);
    }

    public boolean receivesGradient(int input) {
        return (gradientInputs >>> input & 1) != 0;
    }

    public boolean accumulate(int input) {
        return (accumulateInputs >>> input & 1) != 0;
    }

    public boolean accumulateParam(int k) {
        return (accumulateParams >>> k & 1) != 0;
    }
}
