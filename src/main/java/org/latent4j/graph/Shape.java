package org.latent4j.graph;

/**
 * The shape of one sample of a node's value: a feature vector of {@code channels} values
 * ({@code spatial} false, height = width = 1), or an image of channels x height x width values
 * stored channels first, row-major within a channel (PyTorch's NCHW order for one sample). A
 * batch holds its samples back to back, {@link #size()} floats each.
 */
public record Shape(int channels, int height, int width, boolean spatial) {
    public Shape {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("a shape needs positive sizes, got " + channels + "x" + height + "x" + width);
        }
        if (!spatial && (height != 1 || width != 1)) {
            throw new IllegalArgumentException("a feature vector has height and width 1, got " + height + "x" + width);
        }
        if ((long) channels * height * width > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a sample of " + channels + "x" + height + "x" + width + " values is too large");
        }
    }

    /** A vector of {@code n} features. */
    public static Shape features(int n) {
        return new Shape(n, 1, 1, false);
    }

    /** An image of c channels, h rows and w columns. */
    public static Shape image(int c, int h, int w) {
        return new Shape(c, h, w, true);
    }

    /** Floats per sample. */
    public int size() {
        return channels * height * width;
    }

    /** "784" for features, "1x28x28" for an image. */
    @Override
    public String toString() {
        return spatial ? channels + "x" + height + "x" + width : Integer.toString(channels);
    }
}
