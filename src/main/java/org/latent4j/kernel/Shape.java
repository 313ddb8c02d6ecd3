package org.latent4j.kernel;

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

    /** The same values seen as a feature vector (what flatten() gives). */
    public Shape flattened() {
        return features(size());
    }

    /**
     * The output of a {@code kernel} x {@code kernel} pooling window moved by {@code stride}
     * (no padding): ((h - kernel) / stride + 1) x ((w - kernel) / stride + 1) per channel.
     * {@code layer} names it in errors, e.g. "max_pool(2, stride 2) needs at least 2x2 input, got 1x1".
     */
    public Shape pooled(String layer, int kernel, int stride) {
        if (!spatial) {
            throw new IllegalArgumentException(layer + " pools an image but its input is " + this + " features (reshape(c, h, w) first)");
        }
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException(layer + ": kernel and stride must be positive, got kernel " + kernel + ", stride " + stride);
        }
        if (height < kernel || width < kernel) {
            throw new IllegalArgumentException(layer + " needs at least " + kernel + "x" + kernel + " input, got " + height + "x" + width);
        }
        return image(channels, (height - kernel) / stride + 1, (width - kernel) / stride + 1);
    }

    /** Each pixel repeated factor x factor times (nearest-neighbour upsampling). */
    public Shape upsampled(String layer, int factor) {
        if (!spatial) {
            throw new IllegalArgumentException(layer + " upsamples an image but its input is " + this + " features (reshape(c, h, w) first)");
        }
        if (factor < 1 || (long) height * factor * width * factor * channels > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(layer + ": factor " + factor + " must be positive and keep the sample under 2^31 values");
        }
        return image(channels, height * factor, width * factor);
    }

    /** The geometry of a convolution (or transposed convolution) on this image; errors name the layer and both shapes. */
    public ConvShape convolved(String layer, int outChannels, int kernel, int stride, int padding, boolean transposed) {
        if (!spatial) {
            throw new IllegalArgumentException(layer + " convolves an image but its input is " + this + " features (reshape(c, h, w) first)");
        }
        return transposed ? ConvShape.convTranspose2d(channels, height, width, outChannels, kernel, stride, padding)
                : ConvShape.conv2d(channels, height, width, outChannels, kernel, stride, padding);
    }

    /** "784" for features, "1x28x28" for an image. */
    @Override
    public String toString() {
        return spatial ? channels + "x" + height + "x" + width : Integer.toString(channels);
    }
}
