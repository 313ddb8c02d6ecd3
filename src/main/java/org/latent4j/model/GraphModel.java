package org.latent4j.model;

import java.util.List;
import java.util.Map;

/**
 * A compiled graph of named float inputs and outputs with the batch first: what
 * {@link Models#loadOnnx} gives for an ONNX file (implemented by {@code org.latent4j.onnx.OnnxModel}
 * of the {@code onnx} artifact). Inputs and outputs are flat arrays, {@code batch} samples back
 * to back, each sample row-major in its per-sample dims.
 */
public interface GraphModel {
    /** The names of the graph inputs, in the file's order. */
    List<String> inputNames();

    /** The names of the graph outputs, in the file's order. */
    List<String> outputNames();

    /** The dims of one sample of an input (without the batch dimension). */
    int[] inputShape(String name);

    /** The dims of one sample of an output (without the batch dimension). */
    int[] outputShape(String name);

    /**
     * Runs a batch of a one-input graph: {@code input} holds batch x (the input's sample size)
     * floats, read only; returns every output by name, in new arrays.
     */
    Map<String, float[]> run(int batch, float[] input);

    /** Runs a batch with every input by name (read only); returns every output by name, in new arrays. */
    Map<String, float[]> run(int batch, Map<String, float[]> inputs);
}
