package org.latent4j.dsl;

import java.util.List;

/** The encoder being written: layers, then a latent ({@link #gaussianLatent} or {@link #latent}). */
public final class EncoderStage extends LayerStage<EncoderStage> {
    final int inputDim;

    EncoderStage(int inputDim, List<LayerSpec> layers) {
        super(layers);
        this.inputDim = inputDim;
    }

    @Override
    EncoderStage with(List<LayerSpec> layers) {
        return new EncoderStage(inputDim, layers);
    }

    /** A VAE bottleneck: heads for mu and logvar of {@code latentDim} dimensions, z sampled by reparameterization. */
    public LatentStage gaussianLatent(int latentDim) {
        return new LatentStage(inputDim, layers, new LatentSpec(LatentSpec.Kind.GAUSSIAN, checkDim(latentDim)));
    }

    /** A deterministic bottleneck of {@code latentDim} units (a plain autoencoder). */
    public LatentStage latent(int latentDim) {
        return new LatentStage(inputDim, layers, new LatentSpec(LatentSpec.Kind.DETERMINISTIC, checkDim(latentDim)));
    }

    private static int checkDim(int d) {
        if (d <= 0) {
            throw new IllegalArgumentException("latent dimension must be positive, got " + d);
        }
        return d;
    }
}
