package org.latent4j.dsl;

import java.util.List;
import org.latent4j.kernel.Activation;

/** The decoder being written: layers, then a likelihood head that ends the model. */
public final class DecoderStage extends LayerStage<DecoderStage> {
    final LatentStage head;

    DecoderStage(LatentStage head, List<LayerSpec> layers) {
        super(layers);
        this.head = head;
    }

    @Override
    DecoderStage with(List<LayerSpec> layers) {
        return new DecoderStage(head, layers);
    }

    /** Bernoulli likelihood on the last dense layer's outputs as logits (inputs in [0, 1]). */
    public ModelSpec bernoulli() {
        return end(new LikelihoodSpec.Bernoulli());
    }

    /** Gaussian likelihood with variance 1: the loss is half the squared error. */
    public ModelSpec gaussian() {
        return gaussian(1f);
    }

    /** Gaussian likelihood with a fixed variance. */
    public ModelSpec gaussian(float variance) {
        return end(new LikelihoodSpec.GaussianFixed(variance));
    }

    /** Gaussian likelihood with a learned log-variance per output feature. */
    public ModelSpec gaussianLearnedVariance() {
        return end(new LikelihoodSpec.GaussianLearned());
    }

    /** Gaussian likelihood with one learned log-variance shared by every output feature. */
    public ModelSpec gaussianLearnedGlobalVariance() {
        return end(new LikelihoodSpec.GaussianLearnedGlobal());
    }

    /**
     * The Huber loss with threshold {@code delta} (half squared error within delta of the input,
     * linear beyond): a reconstruction loss robust to outliers.
     */
    public ModelSpec huber(float delta) {
        return end(new LikelihoodSpec.Huber(delta));
    }

    private ModelSpec end(LikelihoodSpec likelihood) {
        if (layers.isEmpty() || layers.stream().noneMatch(LayerSpec::hasWeights)) {
            throw new IllegalArgumentException("the decoder needs at least one dense layer before " + likelihood.describe() + "()");
        }
        LayerSpec last = layers.get(layers.size() - 1);
        if (!last.hasWeights() && !(last instanceof LayerSpec.ActivationLayer) && !(last instanceof LayerSpec.Flatten)
                && !(last instanceof LayerSpec.Upsample)) {
            throw new IllegalArgumentException("the decoder cannot end with " + last.describe() + ": end it with a dense layer");
        }
        if (likelihood instanceof LikelihoodSpec.Bernoulli && last instanceof LayerSpec.ActivationLayer a
                && a.activation() == Activation.SIGMOID) {
            throw new IllegalArgumentException("bernoulli() takes logits: remove the sigmoid() after the decoder's last dense layer");
        }
        return new ModelSpec(head.inputDim, head.encoder, head.latent, layers, likelihood, head.conditionDim, head.inputShape);
    }
}
