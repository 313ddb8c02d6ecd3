package org.latent4j.graph;

import org.latent4j.kernel.Gemm;

/**
 * What an op's rules see of the executor while one step of a plan runs: the step's node's buffers,
 * the parameter arena and its gradients, the random stream, and the kernels' thread pool. Arrays
 * hold the whole batch, row-major, from offset 0. Implemented by the runtime.
 */
public interface OpContext {
    /** Rows in this batch. */
    int batch();

    /** True in a training plan (noise layers add noise, batch normalization uses the batch). */
    boolean training();

    /** The parameter arena. */
    float[] params();

    /** The parameter gradients (same layout as {@link #params()}); null in a forward-only run. */
    float[] gradients();

    /** Arena offset of the current node's k-th parameter. */
    int paramOffset(int k);

    /** The current node's k-th parameter tensor. */
    ParamSpec paramSpec(int k);

    /** Node {@code id} of the graph (for its shape). */
    Node node(int id);

    /** The value of node {@code id}. */
    float[] value(int id);

    /** The gradient of node {@code id}'s value. */
    float[] gradient(int id);

    /** True when input k of the current node needs its gradient in this plan. */
    boolean needsGradient(int input);

    /** True when input k's gradient already holds another consumer's part: add to it, do not overwrite. */
    boolean accumulate(int input);

    /** True when the current node's k-th parameter gradient already holds another node's part (a shared tensor). */
    boolean accumulateParam(int k);

    /** The current node's buffer k ({@link Op#buffers}, by its index there), a float buffer. */
    float[] floats(int k);

    /** The current node's buffer k ({@link Op#buffers}, by its index there), a double buffer. */
    double[] doubles(int k);

    /** The current node's buffer k ({@link Op#buffers}, by its index there), an int buffer. */
    int[] ints(int k);

    /** The step scratch, at least the {@link Op#stepScratchFloats} of every op of the plan. Not kept between steps. */
    float[] stepScratch();

    /** The convolution kernels on the executor's threads. */
    org.latent4j.kernel.Conv2d conv();

    /** Scratch of the step, k = 0 or 1: floats for the widest node of the plan over the whole batch. Not kept between steps. */
    float[] scratch(int k);

    /** Scratch of the step, k = 0 or 1: doubles for the widest node's features. Not kept between steps. */
    double[] scratchDoubles(int k);

    /** The run's seed and random stream: noise element i of a layer is Philox(seed, stream, start + i). */
    long seed();

    long stream();

    /** The weight of one sample's term in the objective (a mean over the batch): 1 / batch. */
    float lossScale();

    /** The weight of one sample's KL term: the KL weight / batch. */
    float klScale();

    /** Per-dimension weights of the KL term (free bits), or null: {@link #termScale} for all. */
    float[] klDimensionWeights();

    /** The GEMM on the executor's threads. */
    Gemm gemm();

    /**
     * The current node's k-th parameter (a (out, in) weight) packed for {@link Gemm#gemmPacked}
     * as the transposed right operand, when the parameters do not change between runs (a trained
     * model); null otherwise.
     */
    float[] packedWeight(int k, int in, int out);

    /**
     * The one-row product over packed weights (a batch of one at inference), on the threads one
     * call may use; null when the context has none (then {@link #gemm} does every product).
     */
    default org.latent4j.kernel.Gemv gemv() {
        return null;
    }

    /**
     * {@link #packedWeight} in bfloat16 ({@link org.latent4j.kernel.Gemv#packBf16}) when the
     * context reads 16-bit weights in one-row products; null when it keeps float weights.
     */
    default int[] packedWeightBf16(int k, int in, int out) {
        return null;
    }

    /** True when one-row products read the weights rounded to bfloat16 ({@link #packedWeightBf16} not null). */
    default boolean weightsBf16() {
        return false;
    }

    /** Runs {@link Op#rowShare} of the current node's op for part {@code part} over rows [0, rows), on the threads when large. */
    void forRows(int part, int rows, int width);

    /**
     * Tells the optimizer that arena elements [offset, offset + length) were replaced by a state
     * update (a re-seeded code): their moments start again from zero, so a revived code is not
     * pushed by the moving averages of the code it replaced. Called from {@link Op#updateState};
     * does nothing when no optimizer listens (inference, a bare executor).
     */
    void resetOptimizerState(int offset, int length);

    /** Who receives {@link #resetOptimizerState}: the trainer's optimizer. */
    @FunctionalInterface
    interface OptimizerReset {
        void reset(int offset, int length);
    }
}
