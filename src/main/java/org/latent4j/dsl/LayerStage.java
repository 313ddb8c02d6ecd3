package org.latent4j.dsl;

import java.util.ArrayList;
import java.util.List;
import org.latent4j.kernel.Activation;

/**
 * The layer methods shared by the encoder and the decoder stages. Every call returns a new
 * stage; a stage is never changed, so a half-built model can be shared and extended twice.
 */
public abstract sealed class LayerStage<S extends LayerStage<S>> permits EncoderStage, DecoderStage {
    final List<LayerSpec> layers;

    LayerStage(List<LayerSpec> layers) {
        this.layers = List.copyOf(layers);
    }

    abstract S with(List<LayerSpec> layers);

    final S add(LayerSpec l) {
        List<LayerSpec> next = new ArrayList<>(layers);
        next.add(l);
        return with(next);
    }

    /** A fully connected layer with {@code units} outputs (weights and bias). */
    public final S dense(int units) {
        if (units <= 0) {
            throw new IllegalArgumentException("dense(" + units + "): a layer needs at least one unit");
        }
        return add(LayerSpec.dense(units));
    }

    public final S relu() {
        return add(LayerSpec.activation(Activation.RELU, 0f));
    }

    public final S leakyRelu(float slope) {
        return add(LayerSpec.activation(Activation.LEAKY_RELU, slope));
    }

    public final S elu(float alpha) {
        return add(LayerSpec.activation(Activation.ELU, alpha));
    }

    public final S tanh() {
        return add(LayerSpec.activation(Activation.TANH, 0f));
    }

    public final S sigmoid() {
        return add(LayerSpec.activation(Activation.SIGMOID, 0f));
    }

    public final S softplus() {
        return add(LayerSpec.activation(Activation.SOFTPLUS, 0f));
    }
}
