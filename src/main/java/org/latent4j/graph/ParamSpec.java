package org.latent4j.graph;

/**
 * A parameter tensor in the flat arena: its name (PyTorch state-dict style, e.g.
 * {@code encoder.0.weight}), shape (rows, cols; cols = 1 for a vector), offset, and how to
 * initialize it (fan in/out for Xavier/He).
 */
public record ParamSpec(String name, int rows, int cols, int offset, Init init, int fanIn, int fanOut) {
    public enum Init { HE, XAVIER, ZERO }

    public int size() {
        return rows * cols;
    }

    /** Shape as PyTorch writes it: (out, in) for a weight, (n) for a vector. */
    public int[] shape() {
        return cols == 1 && !name.endsWith(".weight") ? new int[] {rows} : new int[] {rows, cols};
    }
}
