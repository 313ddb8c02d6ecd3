package org.latent4j.dsl;

import java.util.List;
import org.latent4j.kernel.Shape;

/** The encoder being written: layers, then a latent ({@link #gaussianLatent} or {@link #latent}). */
public final class EncoderStage extends LayerStage<EncoderStage> {
    final int inputDim;
    final int conditionDim;
    /** The input image's shape, or null for feature vectors. */
    final Shape inputShape;

    EncoderStage(int inputDim, int conditionDim, List<LayerSpec> layers, Shape inputShape) {
        super(layers);
        this.inputDim = inputDim;
        this.conditionDim = conditionDim;
        this.inputShape = inputShape;
    }

    @Override
    EncoderStage with(List<LayerSpec> layers) {
        return new EncoderStage(inputDim, conditionDim, layers, inputShape);
    }

    /**
     * A conditional model (conditional AE / CVAE): a condition vector of {@code width} values
     * (e.g. a one-hot class label) is joined to the encoder's input and to the latent code, and
     * encoding, reconstruction and sampling take it.
     */
    public EncoderStage conditionedOn(int width) {
        if (width <= 0) {
            throw new IllegalArgumentException("conditionedOn(" + width + "): the condition needs at least one value");
        }
        if (!layers.isEmpty()) {
            throw new IllegalArgumentException("conditionedOn(" + width + ") comes right after encoder(...), before any layer");
        }
        return new EncoderStage(inputDim, width, layers, inputShape);
    }

    /**
     * Denoising: adds N(0, stddev^2) noise to each value in training only; the loss still
     * compares the reconstruction with the clean input.
     */
    public EncoderStage gaussianNoise(float stddev) {
        return add(new LayerSpec.GaussianNoise(stddev));
    }

    /** Denoising: sets each value to 0 with probability {@code p}, in training only. */
    public EncoderStage maskingNoise(float p) {
        return add(new LayerSpec.MaskingNoise(p));
    }

    /** Denoising: sets each value with probability {@code p} to 0 or 1 (even odds), in training only. */
    public EncoderStage saltAndPepper(float p) {
        return add(new LayerSpec.SaltAndPepper(p));
    }

    /** A VAE bottleneck: heads for mu and logvar of {@code latentDim} dimensions, z sampled by reparameterization. */
    public LatentStage gaussianLatent(int latentDim) {
        return new LatentStage(inputDim, conditionDim, inputShape, layers, LatentSpec.gaussian(checkDim(latentDim)));
    }

    /** A deterministic bottleneck of {@code latentDim} units (a plain autoencoder). */
    public LatentStage latent(int latentDim) {
        return new LatentStage(inputDim, conditionDim, inputShape, layers, LatentSpec.deterministic(checkDim(latentDim)));
    }

    /**
     * A vector-quantized bottleneck (VQ-VAE) of {@code codes} codes of {@code dim} values per position:
     * on a code grid when the encoder ends with an image-shaped value (a 1x1 convolution projects it to
     * dim channels), else one position (a dense projection). Options on the returned stage:
     * commitment(beta), codebookByGradient(), emaDecay(decay), deadCodeThreshold(fraction), cosine().
     */
    public LatentStage vectorQuantized(int codes, int dim) {
        return new LatentStage(inputDim, conditionDim, inputShape, layers, LatentSpec.vectorQuantized(codes, dim));
    }

    /** A finite-scalar-quantized bottleneck (FSQ): one channel per level count, e.g. finiteScalar(8, 5, 5, 5) for 1,000 codes. */
    public LatentStage finiteScalar(int... levels) {
        java.util.List<Integer> l = new java.util.ArrayList<>();
        for (int v : levels) {
            l.add(v);
        }
        return new LatentStage(inputDim, conditionDim, inputShape, layers, new LatentSpec.FiniteScalar(l));
    }

    private static int checkDim(int d) {
        if (d <= 0) {
            throw new IllegalArgumentException("latent dimension must be positive, got " + d);
        }
        return d;
    }
}
