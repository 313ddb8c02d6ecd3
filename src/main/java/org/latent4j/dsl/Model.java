package org.latent4j.dsl;

import java.util.List;

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
        return new EncoderStage(inputDim, 0, List.of());
    }

    /** An encoder whose input width is taken from the data when the model is compiled. */
    public static EncoderStage encoder() {
        return new EncoderStage(0, 0, List.of());
    }
}
