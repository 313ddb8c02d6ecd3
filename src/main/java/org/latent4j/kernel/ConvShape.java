package org.latent4j.kernel;

/**
 * The geometry of one 2-D convolution or transposed convolution, per sample: input
 * {@code (inChannels, inHeight, inWidth)}, output {@code (outChannels, outHeight(), outWidth())},
 * both channels-first row-major (PyTorch's NCHW order without the N); a square stride and a
 * square zero padding; a kernel of {@code kernelHeight x kernelWidth}.
 *
 * <p>A convolution ({@code transposed == false}, PyTorch's {@code Conv2d}) has
 * {@code out = (in + 2 padding - kernel) / stride + 1} (rounded down) and its weight is stored
 * {@code (outChannels, inChannels, kernelHeight, kernelWidth)}. A transposed convolution
 * (PyTorch's {@code ConvTranspose2d}, no output padding, no dilation) has
 * {@code out = (in - 1) stride - 2 padding + kernel} and its weight is stored
 * {@code (inChannels, outChannels, kernelHeight, kernelWidth)}; its forward is the data gradient of
 * {@link #convolution()}, the convolution that maps its output geometry back to its input one.
 * The bias has {@code outChannels} entries in both cases.
 *
 * <p>The constructor checks every size and throws {@link IllegalArgumentException} naming the
 * layer as PyTorch would write it, e.g. "conv2d(32, 3, stride 2) needs at least 3x3 input, got 1x1".
 */
public record ConvShape(int inChannels, int inHeight, int inWidth, int outChannels,
                        int kernelHeight, int kernelWidth, int stride, int padding, boolean transposed) {

    public ConvShape {
        // The checks build the layer's name only when one fails: a shape made per training step allocates nothing else.
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "in channels", inChannels);
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "input height", inHeight);
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "input width", inWidth);
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "out channels", outChannels);
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "kernel height", kernelHeight);
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "kernel width", kernelWidth);
        positive(outChannels, kernelHeight, kernelWidth, stride, padding, transposed, "stride", stride);
        if (padding < 0) {
            throw new IllegalArgumentException(describe(outChannels, kernelHeight, kernelWidth, stride, padding, transposed)
                    + ": padding must not be negative, got " + padding);
        }
        long outFloats = 0;
        if (transposed) {
            long oh = (long) (inHeight - 1) * stride - 2L * padding + kernelHeight;
            long ow = (long) (inWidth - 1) * stride - 2L * padding + kernelWidth;
            if (oh < 1 || ow < 1) {
                throw new IllegalArgumentException(describe(outChannels, kernelHeight, kernelWidth, stride, padding, transposed) + " gives a "
                        + Math.max(0, oh) + "x" + Math.max(0, ow) + " output for " + inHeight + "x" + inWidth
                        + " input ((in - 1) * stride - 2 * padding + kernel must be at least 1)");
            }
            outFloats = (long) outChannels * oh * ow;
        } else if ((long) inHeight + 2L * padding < kernelHeight || (long) inWidth + 2L * padding < kernelWidth) {
            throw new IllegalArgumentException(describe(outChannels, kernelHeight, kernelWidth, stride, padding, transposed) + " needs at least "
                    + Math.max(1, kernelHeight - 2 * padding) + "x" + Math.max(1, kernelWidth - 2 * padding) + " input, got " + inHeight
                    + "x" + inWidth);
        }
        long inFloats = (long) inChannels * inHeight * inWidth, weightFloats = (long) inChannels * outChannels * kernelHeight * kernelWidth;
        if (outFloats > Integer.MAX_VALUE - 16 || inFloats > Integer.MAX_VALUE - 16 || weightFloats > Integer.MAX_VALUE - 16) {
            String what = outFloats > Integer.MAX_VALUE - 16 ? "output" : inFloats > Integer.MAX_VALUE - 16 ? "input" : "weight";
            long n = Math.max(outFloats, Math.max(inFloats, weightFloats));
            throw new IllegalArgumentException(describe(outChannels, kernelHeight, kernelWidth, stride, padding, transposed) + ": the " + what
                    + " would have " + n + " floats, more than an array holds");
        }
    }

    /** PyTorch's {@code Conv2d(inChannels, outChannels, kernel, stride, padding)} on an inHeight x inWidth input. */
    public static ConvShape conv2d(int inChannels, int inHeight, int inWidth, int outChannels, int kernel, int stride, int padding) {
        return new ConvShape(inChannels, inHeight, inWidth, outChannels, kernel, kernel, stride, padding, false);
    }

    /** PyTorch's {@code ConvTranspose2d(inChannels, outChannels, kernel, stride, padding)} on an inHeight x inWidth input. */
    public static ConvShape convTranspose2d(int inChannels, int inHeight, int inWidth, int outChannels, int kernel, int stride,
                                            int padding) {
        return new ConvShape(inChannels, inHeight, inWidth, outChannels, kernel, kernel, stride, padding, true);
    }

    public int outHeight() {
        return transposed ? (inHeight - 1) * stride - 2 * padding + kernelHeight : (inHeight + 2 * padding - kernelHeight) / stride + 1;
    }

    public int outWidth() {
        return transposed ? (inWidth - 1) * stride - 2 * padding + kernelWidth : (inWidth + 2 * padding - kernelWidth) / stride + 1;
    }

    /** Floats of one input sample, C x H x W. */
    public int inSize() {
        return inChannels * inHeight * inWidth;
    }

    /** Floats of one output sample. */
    public int outSize() {
        return outChannels * outHeight() * outWidth();
    }

    /** Floats of the weight (inChannels x outChannels x kernelHeight x kernelWidth, in the order of the class comment). */
    public int weightSize() {
        return inChannels * outChannels * kernelHeight * kernelWidth;
    }

    /**
     * The convolution this shape is the adjoint of: itself for a convolution; for a transposed
     * convolution the convolution from its output geometry (outChannels, outHeight, outWidth) to
     * its input geometry, whose weight has the same memory layout. A transposed convolution's
     * forward is that convolution's data gradient, its data gradient that convolution's forward.
     */
    public ConvShape convolution() {
        return transposed ? new ConvShape(outChannels, outHeight(), outWidth(), inChannels, kernelHeight, kernelWidth, stride, padding, false)
                : this;
    }

    /** Multiply-adds times 2 of one sample's forward (zero padding included), the same for each of the three passes. */
    public double flops() {
        ConvShape c = convolution();
        return 2.0 * c.outHeight() * c.outWidth() * c.outChannels * c.inChannels * c.kernelHeight * c.kernelWidth;
    }

    /** "conv2d(32, 4, stride 2, padding 1)" or "conv_transpose2d(...)". */
    @Override
    public String toString() {
        return describe(outChannels, kernelHeight, kernelWidth, stride, padding, transposed) + " on " + inChannels + "x" + inHeight + "x"
                + inWidth;
    }

    private static String describe(int outChannels, int kh, int kw, int stride, int padding, boolean transposed) {
        return (transposed ? "conv_transpose2d(" : "conv2d(") + outChannels + ", " + (kh == kw ? String.valueOf(kh) : kh + "x" + kw)
                + ", stride " + stride + (padding != 0 ? ", padding " + padding : "") + ")";
    }

    private static void positive(int outChannels, int kh, int kw, int stride, int padding, boolean transposed, String what, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(describe(outChannels, kh, kw, stride, padding, transposed) + ": " + what
                    + " must be positive, got " + v);
        }
    }
}
