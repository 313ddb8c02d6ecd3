package org.latent4j.graph;

/**
 * A parameter tensor in the flat arena: its name (PyTorch state-dict style, e.g.
 * {@code encoder.0.weight}), shape (rows, cols; cols = 1 for a vector), offset, how to
 * initialize it (fan in/out for Xavier/He), and its {@link Role}.
 */
public record ParamSpec(String name, int rows, int cols, int offset, Init init, int fanIn, int fanOut, Role role, int kernel) {
    public enum Init { HE, XAVIER, ZERO, ONE }

    /**
     * WEIGHT: a trained matrix (the L1 / L2 penalties apply to these); VECTOR: a trained vector
     * (bias, log-variance, batch normalization's scale and shift); STATE: kept by the forward
     * pass, never by the optimizer (batch normalization's running mean and variance). The state
     * lies after every trained tensor in the arena ({@link Graph#trainableCount()}).
     */
    public enum Role { WEIGHT, VECTOR, STATE }

    public int size() {
        return rows * cols;
    }

    /** A tensor that is not a convolution weight ({@code kernel} 0). */
    public ParamSpec(String name, int rows, int cols, int offset, Init init, int fanIn, int fanOut, Role role) {
        this(name, rows, cols, offset, init, fanIn, fanOut, role, 0);
    }

    /** The same tensor at another offset. */
    public ParamSpec at(int newOffset) {
        return new ParamSpec(name, rows, cols, newOffset, init, fanIn, fanOut, role, kernel);
    }

    /**
     * Shape as PyTorch writes it: (out, in) for a weight, (n) for a vector, and for a
     * convolution weight ({@code kernel} k > 0, rows x (cols = second dim * k * k)) the 4-D
     * (rows, cols / k^2, k, k): (out, in, k, k), or (in, out, k, k) for a transposed one.
     */
    public int[] shape() {
        if (kernel > 0) {
            return new int[] {rows, cols / (kernel * kernel), kernel, kernel};
        }
        return role == Role.WEIGHT || cols > 1 ? new int[] {rows, cols} : new int[] {rows};
    }
}
