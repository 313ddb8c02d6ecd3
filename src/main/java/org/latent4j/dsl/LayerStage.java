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
        return add(new LayerSpec.Dense(units));
    }

    /**
     * A 2-D convolution of an image (PyTorch's {@code Conv2d(in, outChannels, kernel, stride,
     * padding)}): weight (outChannels, in, kernel, kernel) and bias; output
     * (in + 2 padding - kernel) / stride + 1 per side.
     */
    public final S conv2d(int outChannels, int kernel, int stride, int padding) {
        return add(new LayerSpec.Conv2d(outChannels, kernel, stride, padding));
    }

    /**
     * A transposed 2-D convolution, for decoders (PyTorch's {@code ConvTranspose2d(in,
     * outChannels, kernel, stride, padding)}): weight (in, outChannels, kernel, kernel) and bias;
     * output (in - 1) stride - 2 padding + kernel per side.
     */
    public final S convTranspose2d(int outChannels, int kernel, int stride, int padding) {
        return add(new LayerSpec.ConvTranspose2d(outChannels, kernel, stride, padding));
    }

    /** Nearest-neighbour upsampling of an image by {@code factor} per side. */
    public final S upsample(int factor) {
        return add(new LayerSpec.Upsample(factor));
    }

    /** Max pooling in kernel x kernel windows moved by stride. */
    public final S maxPool(int kernel, int stride) {
        return add(new LayerSpec.MaxPool(kernel, stride));
    }

    /** Average pooling in kernel x kernel windows moved by stride. */
    public final S avgPool(int kernel, int stride) {
        return add(new LayerSpec.AvgPool(kernel, stride));
    }

    /** An image as features, channels first (torch.flatten's order), between conv and dense parts. */
    public final S flatten() {
        return add(new LayerSpec.Flatten());
    }

    /** Features seen as an image of channels x height x width, between dense and conv parts. */
    public final S reshape(int channels, int height, int width) {
        return add(new LayerSpec.Reshape(channels, height, width));
    }

    /** A residual block: x + conv3x3(relu(conv3x3(x))), both convolutions keeping the channels (as VQ-VAE encoders use). */
    public final S residualBlock() {
        return add(new LayerSpec.ResidualBlock());
    }

    public final S relu() {
        return add(new LayerSpec.ActivationLayer(Activation.RELU, 0f));
    }

    public final S leakyRelu(float slope) {
        return add(new LayerSpec.ActivationLayer(Activation.LEAKY_RELU, slope));
    }

    public final S elu(float alpha) {
        return add(new LayerSpec.ActivationLayer(Activation.ELU, alpha));
    }

    public final S tanh() {
        return add(new LayerSpec.ActivationLayer(Activation.TANH, 0f));
    }

    public final S sigmoid() {
        return add(new LayerSpec.ActivationLayer(Activation.SIGMOID, 0f));
    }

    public final S softplus() {
        return add(new LayerSpec.ActivationLayer(Activation.SOFTPLUS, 0f));
    }

    /**
     * Batch normalization of the layer before, feature by feature: in training by the batch's
     * mean and variance, at inference by running averages kept from training; a learned scale
     * and shift follow. PyTorch's defaults: momentum 0.1, epsilon 1e-5. Training batches need
     * at least 2 rows.
     */
    public final S batchNorm() {
        return batchNorm(0.1f, 1e-5f);
    }

    /** Batch normalization with the running averages' momentum (weight of each batch) and the variance's epsilon. */
    public final S batchNorm(float momentum, float epsilon) {
        return add(new LayerSpec.BatchNorm(momentum, epsilon));
    }

    /**
     * Dropout: in training each value is zeroed with probability {@code p} and the rest scaled
     * by 1 / (1 - p); at inference the layer passes its input through.
     */
    public final S dropout(float p) {
        return add(new LayerSpec.Dropout(p));
    }

    /**
     * A sparse autoencoder's penalty on the layer before (which must end in a sigmoid):
     * {@code weight * sum_j KL(rho || rho_j)}, rho_j the mean activation of unit j over the batch.
     */
    public final S sparsity(float rho, float weight) {
        LayerSpec last = null;
        for (int i = layers.size() - 1; i >= 0 && last == null; i--) {
            if (!layers.get(i).isPenalty()) {
                last = layers.get(i);
            }
        }
        if (!(last instanceof LayerSpec.ActivationLayer a && a.activation() == Activation.SIGMOID)) {
            throw new IllegalArgumentException("sparsity(" + rho + ", " + weight + ") needs activations in (0, 1): put it right after a sigmoid(), not after "
                    + (last == null ? "the input" : last.describe()));
        }
        return add(new LayerSpec.Sparsity(rho, weight));
    }

    /** An L1 penalty on the activations of the layer before: {@code weight * sum_j |h_j|} per sample. */
    public final S activityL1(float weight) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("activityL1(" + weight + ") goes after a layer, not on the input");
        }
        return add(new LayerSpec.ActivityL1(weight));
    }
}
