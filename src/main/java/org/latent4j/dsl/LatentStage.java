package org.latent4j.dsl;

import java.util.List;

/** After the bottleneck: the only way on is {@link #decoder()}. */
public final class LatentStage {
    final int inputDim;
    final List<LayerSpec> encoder;
    final LatentSpec latent;

    LatentStage(int inputDim, List<LayerSpec> encoder, LatentSpec latent) {
        this.inputDim = inputDim;
        this.encoder = List.copyOf(encoder);
        this.latent = latent;
    }

    public DecoderStage decoder() {
        return new DecoderStage(this, List.of());
    }
}
