package org.latent4j.graph;

import org.latent4j.kernel.Shape;
import java.util.List;

/**
 * A graph operation: the one place that holds everything about an op. Each op is a record with
 * its own attributes (an activation, a probability, a clamp range) and gives
 * <ul>
 * <li>its shape rule ({@link #shape}: the output shape from the input shapes and its
 *     parameters' shapes, or an error naming the layer and both shapes);</li>
 * <li>its forward rule ({@link #forward}) and its backward rule ({@link #backward}: a gradient
 *     for every input that {@link #takesGradient takes one}, each written or added as
 *     {@link OpContext#accumulate} says, and its parameters' gradients likewise);</li>
 * <li>the buffers it keeps from forward to backward or to the state update ({@link #buffers}),
 *     which the plan owns and places by liveness;</li>
 * <li>its state updated after an applied training step ({@link #updateState}: batch
 *     normalization's running statistics).</li>
 * </ul>
 * The set of ops is closed (sealed): every switch over it is exhaustive, without a default.
 * Shapes are per sample ({@link Shape}); a batch holds its samples back to back.
 */
public sealed interface Op permits Ops.Input, Ops.MatMul, Ops.BiasAdd, Ops.Activate, Ops.Dense, Ops.Reparameterize,
        Ops.GaussianKl, Ops.ReconstructionLoss, Ops.Concat, Ops.ConcatPlanes, Ops.Noise, Ops.Clamp, Ops.Penalty, Ops.BatchNormalize, Ops.StopGradient,
        Ops.Conv, Ops.Pool, Ops.Upsample, Ops.Reshape, Ops.Add,
        Ops.VectorQuantize, Ops.StraightThrough, Ops.FiniteScalarQuantize, Ops.MaskedConv, Ops.Embedding, Ops.CategoricalNll {

    /** What a node's value is to the training objective. */
    enum Term {
        /** An intermediate value. */
        NONE,
        /** The per-sample reconstruction loss (the -log likelihood of the input). */
        RECONSTRUCTION,
        /** The per-sample KL of the posterior from the prior (weighted by the KL weight). */
        KL,
        /** A per-sample penalty (regularizer): in the objective, not in the -ELBO. */
        PENALTY
    }

    /**
     * A buffer an op keeps for itself: {@code perSample} values per sample of the batch plus
     * {@code fixed} values, of floats or doubles. {@code untilStateUpdate} keeps it alive after
     * the plan's last step (the state update reads it), else it lives from the op's forward step
     * to its backward step.
     */
    record Buffer(String name, Type type, int perSample, int fixed, boolean untilStateUpdate) {
        /** What a buffer holds. */
        public enum Type { FLOATS, DOUBLES, INTS }

        public static Buffer floatsPerSample(String name, int perSample) {
            return new Buffer(name, Type.FLOATS, perSample, 0, false);
        }

        public static Buffer intsPerSample(String name, int perSample) {
            return new Buffer(name, Type.INTS, perSample, 0, false);
        }

        public static Buffer doubles(String name, int count, boolean untilStateUpdate) {
            return new Buffer(name, Type.DOUBLES, 0, count, untilStateUpdate);
        }
    }

    /**
     * The output shape of a node {@code name} of this op on inputs of these shapes, with these
     * parameters (in the node's order); throws naming the layer and both shapes when they do not fit.
     */
    Shape shape(String name, List<Shape> inputs, List<ParamSpec> params);

    /** Whether gradient flows back into input k (false for data targets and stopped gradients). */
    boolean takesGradient(int input);

    /** What the node's value is to the objective (losses and penalties start the backward pass). */
    default Term term() {
        return Term.NONE;
    }

    /** The buffers the op keeps in a training plan ({@code training}) or an inference plan. */
    default List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
        return List.of();
    }

    /** Computes the node's value from its inputs' values. */
    void forward(Node node, OpContext c);

    /**
     * Writes (or adds, as {@link OpContext#accumulate} says) the gradient of each input that takes
     * one and needs one ({@link OpContext#needsGradient}), and the gradients of the node's trained
     * parameters. A term of the objective reads its weight from {@link OpContext#lossScale} (the KL: {@link OpContext#klScale});
     * any other op reads its output's gradient.
     */
    void backward(Node node, OpContext c);

    /**
     * Floats of scratch the op's rules need within one step for up to {@code maxBatch} rows on
     * {@code threads} threads (a convolution's im2row chunks); the executor allocates the largest
     * of these once ({@link OpContext#stepScratch}).
     */
    default long stepScratchFloats(Node node, List<Shape> inputs, int maxBatch, int threads) {
        return 0;
    }

    /** True when {@link #updateState} has work after an applied training step. */
    default boolean hasState() {
        return false;
    }

    /** Updates the op's state (in the arena) from the last training forward pass. */
    default void updateState(Node node, OpContext c) {
    }

    /** A share of rows [r0, r1) of a row-parallel part ({@link OpContext#forRows}) of this op's rules. */
    default void rowShare(Node node, OpContext c, int part, int r0, int r1) {
        throw new IllegalStateException(node.name() + ": op " + this + " has no row-parallel part");
    }

    /** The op's name in messages, e.g. "DENSE", "GAUSSIAN_NLL" (its record's name in upper snake case). */
    default String opName() {
        return getClass().getSimpleName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
    }
}
