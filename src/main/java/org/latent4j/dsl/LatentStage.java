package org.latent4j.dsl;

import java.util.List;
import org.latent4j.kernel.Shape;
import org.latent4j.kernel.Activation;

/**
 * After the bottleneck: options of the latent ({@link #tanh()}, {@link #contractive},
 * {@link #clampLogVariance}), then {@link #decoder()}. Immutable: every call returns a new stage.
 */
public final class LatentStage {
    final int inputDim;
    final int conditionDim;
    final Shape inputShape;
    final List<LayerSpec> encoder;
    final LatentSpec latent;

    LatentStage(int inputDim, int conditionDim, Shape inputShape, List<LayerSpec> encoder, LatentSpec latent) {
        this.inputDim = inputDim;
        this.conditionDim = conditionDim;
        this.inputShape = inputShape;
        this.encoder = List.copyOf(encoder);
        this.latent = latent;
    }

    /** A tanh bottleneck: the code of latent(dim) is tanh of its dense layer. */
    public LatentStage tanh() {
        return new LatentStage(inputDim, conditionDim, inputShape, encoder, deterministic("tanh()").withActivation(Activation.TANH));
    }

    /** A sigmoid bottleneck (codes in (0, 1)). */
    public LatentStage sigmoid() {
        return new LatentStage(inputDim, conditionDim, inputShape, encoder, deterministic("sigmoid()").withActivation(Activation.SIGMOID));
    }

    /**
     * A contractive autoencoder: adds {@code weight * ||J||_F^2} per sample, J the Jacobian of
     * the code with respect to the layer below it (the input when the encoder has no hidden layer).
     */
    public LatentStage contractive(float weight) {
        if (!(weight > 0f && Float.isFinite(weight))) {
            throw new IllegalArgumentException("contractive(" + weight + "): the penalty weight must be positive and finite");
        }
        return new LatentStage(inputDim, conditionDim, inputShape, encoder, deterministic("contractive(" + weight + ")").withContractive(weight));
    }

    /** Clamps a Gaussian latent's log-variance to [min, max] (guards exp(logvar) against overflow). */
    public LatentStage clampLogVariance(float min, float max) {
        return new LatentStage(inputDim, conditionDim, inputShape, encoder, new LatentSpec.Gaussian(gaussian().dim(), min, max));
    }

    /** The commitment loss's weight beta of a vector-quantized latent (default 0.25). */
    public LatentStage commitment(float beta) {
        LatentSpec.VectorQuantized v = vq("commitment(" + beta + ")");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), beta, v.ema(), v.decay(), v.deadThreshold(), v.cosine(), v.kmeansIterations(), v.codebookDim()));
    }

    /** Trains the codebook by the codebook loss's gradient instead of moving averages. */
    public LatentStage codebookByGradient() {
        LatentSpec.VectorQuantized v = vq("codebookByGradient()");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), v.beta(), false, v.decay(), v.deadThreshold(), v.cosine(), v.kmeansIterations(), v.codebookDim()));
    }

    /** The decay of the codebook's moving averages (default 0.99). */
    public LatentStage emaDecay(float decay) {
        LatentSpec.VectorQuantized v = vq("emaDecay(" + decay + ")");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), v.beta(), v.ema(), decay, v.deadThreshold(), v.cosine(), v.kmeansIterations(), v.codebookDim()));
    }

    /** Re-seeds a code whose moving-average usage falls below this fraction of the mean usage (default 0.03; 0: never). */
    public LatentStage deadCodeThreshold(float fraction) {
        LatentSpec.VectorQuantized v = vq("deadCodeThreshold(" + fraction + ")");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), v.beta(), v.ema(), v.decay(), fraction, v.cosine(), v.kmeansIterations(), v.codebookDim()));
    }

    /** Chooses the nearest code by cosine similarity instead of squared distance. */
    public LatentStage cosine() {
        LatentSpec.VectorQuantized v = vq("cosine()");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), v.beta(), v.ema(), v.decay(), v.deadThreshold(), true, v.kmeansIterations(), v.codebookDim()));
    }

    /**
     * Initializes the codebook by k-means on the first training batch's encoder outputs: codes drawn
     * among them, then {@code iterations} Lloyd iterations (default: none; the first step's revival
     * seeds unused codes from the batch instead).
     */
    public LatentStage kmeansInit(int iterations) {
        LatentSpec.VectorQuantized v = vq("kmeansInit(" + iterations + ")");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), v.beta(), v.ema(), v.decay(), v.deadThreshold(), v.cosine(), iterations, v.codebookDim()));
    }

    /** Looks codes up in a lower-dimensional space of {@code codebookDim} values (projected in and back out). */
    public LatentStage codebookDim(int codebookDim) {
        LatentSpec.VectorQuantized v = vq("codebookDim(" + codebookDim + ")");
        return with(new LatentSpec.VectorQuantized(v.codes(), v.dim(), v.beta(), v.ema(), v.decay(), v.deadThreshold(), v.cosine(),
                v.kmeansIterations(), codebookDim));
    }

    private LatentStage with(LatentSpec l) {
        return new LatentStage(inputDim, conditionDim, inputShape, encoder, l);
    }

    private LatentSpec.VectorQuantized vq(String option) {
        if (latent instanceof LatentSpec.VectorQuantized v) {
            return v;
        }
        throw new IllegalArgumentException(option + " is an option of vectorQuantized(codes, dim)");
    }

    private LatentSpec.Deterministic deterministic(String option) {
        if (latent instanceof LatentSpec.Deterministic d) {
            return d;
        }
        throw new IllegalArgumentException(option + ": a " + (latent instanceof LatentSpec.Gaussian ? "Gaussian" : latent.kindName().replace('_', '-'))
                + " latent takes no activation and no contractive penalty (they are for latent(dim))");
    }

    private LatentSpec.Gaussian gaussian() {
        if (latent instanceof LatentSpec.Gaussian g) {
            return g;
        }
        throw new IllegalArgumentException("clampLogVariance: a " + latent.kindName().replace('_', '-') + " latent has no log-variance to clamp");
    }

    public DecoderStage decoder() {
        return new DecoderStage(this, List.of());
    }
}
