package org.latent4j.dsl;

import java.util.List;
import org.latent4j.kernel.Shape;

/**
 * Where a model starts:
 * <pre>{@code
 * ModelSpec vae = Model.encoder(784).dense(512).relu().dense(256).relu()
 *         .gaussianLatent(32)
 *         .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
 * }</pre>
 * The stages only offer what may come next: a latent only on the encoder, a decoder only
 * after a latent, and a model only once the decoder ends with a likelihood.
 */
public final class Model {
    private Model() {}

    /** An encoder for inputs of {@code inputDim} features. */
    public static EncoderStage encoder(int inputDim) {
        if (inputDim <= 0) {
            throw new IllegalArgumentException("encoder(" + inputDim + "): the input needs at least one feature");
        }
        return new EncoderStage(inputDim, 0, List.of(), null);
    }

    /**
     * An encoder for images of {@code channels} x {@code height} x {@code width} values (stored
     * channels first, as PyTorch's NCHW; a Fashion-MNIST image is 1 x 28 x 28), for convolutional
     * layers; {@code flatten()} turns the image into features for dense layers.
     */
    public static EncoderStage encoder(int channels, int height, int width) {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("encoder(" + channels + ", " + height + ", " + width + "): every size must be positive");
        }
        Shape s = Shape.image(channels, height, width);
        return new EncoderStage(s.size(), 0, List.of(), s);
    }

    /** An encoder whose input width is taken from the data when the model is compiled. */
    public static EncoderStage encoder() {
        return new EncoderStage(0, 0, List.of(), null);
    }

    /**
     * A Helmholtz machine on {@code visible} binary units: {@code Model.helmholtz(784).layers(200, 200)}
     * (see {@link HelmholtzSpec}; trained by wake-sleep or reweighted wake-sleep).
     */
    public static HelmholtzSpec.Stage helmholtz(int visible) {
        if (visible <= 0) {
            throw new IllegalArgumentException("helmholtz(" + visible + "): the visible layer needs at least one unit");
        }
        return new HelmholtzSpec.Stage(visible);
    }
}
