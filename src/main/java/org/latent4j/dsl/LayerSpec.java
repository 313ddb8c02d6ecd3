package org.latent4j.dsl;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.ConvShape;
import org.latent4j.kernel.Shape;

/**
 * One layer of a model spec: a sealed family of records, one per layer kind, each with its own
 * named parameters, its JSON form ({@link #toJson()}), its summary text ({@link #describe()}) and
 * its count of trained parameters ({@link #trainedParameters(int)}). A new kind does not compile
 * until it has all of them, and {@link #fromJson} reads each kind's form back (a test round-trips
 * every permitted record).
 */
public sealed interface LayerSpec {

    /** A fully connected layer of {@code units} outputs (weight and bias). */
    record Dense(int units) implements LayerSpec {
        public Dense {
            if (units <= 0) {
                throw new IllegalArgumentException("dense layer needs a positive number of units, got " + units);
            }
        }
    }

    /** An element-wise activation with its parameter (slope of leaky relu, alpha of elu; 0 for the others). */
    record ActivationLayer(Activation activation, float parameter) implements LayerSpec {
        public ActivationLayer {
            if (activation == null) {
                throw new IllegalArgumentException("activation layer needs an activation");
            }
            activation.checkParameter(parameter);
        }
    }

    /** Training only: adds N(0, stddev^2) to every value; at inference the input passes through. */
    record GaussianNoise(float stddev) implements LayerSpec {
        public GaussianNoise {
            if (!(stddev > 0f && Float.isFinite(stddev))) {
                throw new IllegalArgumentException("gaussianNoise(" + stddev + "): the standard deviation must be positive and finite");
            }
        }
    }

    /** Training only: sets each value to 0 with {@code probability}. */
    record MaskingNoise(float probability) implements LayerSpec {
        public MaskingNoise {
            checkProbability("masking_noise", probability);
        }
    }

    /** Training only: sets each value with {@code probability} to 0 or 1 (even odds). */
    record SaltAndPepper(float probability) implements LayerSpec {
        public SaltAndPepper {
            checkProbability("salt_and_pepper", probability);
        }
    }

    /** Training only: zeroes each value with {@code probability} and scales the rest by 1 / (1 - probability). */
    record Dropout(float probability) implements LayerSpec {
        public Dropout {
            checkProbability("dropout", probability);
        }
    }

    /**
     * Sparse autoencoder penalty on the layer before (outputs in (0, 1): after a sigmoid), added to
     * the objective: {@code weight * sum_j KL(rho || rho_j)} with rho_j the batch's mean
     * activation of unit j. Passes its input through.
     */
    record Sparsity(float rho, float weight) implements LayerSpec {
        public Sparsity {
            if (!(rho > 0f && rho < 1f)) {
                throw new IllegalArgumentException("sparsity(" + rho + ", " + weight + "): the target rate rho must be in (0, 1)");
            }
            checkWeight("sparsity", weight);
        }
    }

    /** Activity penalty {@code weight * sum_j |h_j|} per sample on the layer before. Passes its input through. */
    record ActivityL1(float weight) implements LayerSpec {
        public ActivityL1 {
            checkWeight("activityL1", weight);
        }
    }

    /**
     * Batch normalization of each feature, {@code gamma * (x - mean) / sqrt(var + epsilon) + beta}
     * with a learned scale gamma and shift beta; in training mean and var are the batch's (biased
     * variance), at inference the running averages kept from training, each updated after an
     * applied step as {@code (1 - momentum) * running + momentum * batch} (the unbiased batch
     * variance for the running variance, as PyTorch).
     */
    record BatchNorm(float momentum, float epsilon) implements LayerSpec {
        public BatchNorm {
            if (!(momentum > 0f && momentum <= 1f)) {
                throw new IllegalArgumentException("batchNorm(" + momentum + ", " + epsilon + "): the momentum must be in (0, 1]");
            }
            if (!(epsilon > 0f && Float.isFinite(epsilon))) {
                throw new IllegalArgumentException("batchNorm(" + momentum + ", " + epsilon + "): epsilon must be positive and finite");
            }
        }
    }

    /**
     * A 2-D convolution (PyTorch's Conv2d(in, outChannels, kernel, stride, padding)) on an image
     * input: weight (outChannels, in, kernel, kernel), bias (outChannels).
     */
    record Conv2d(int outChannels, int kernel, int stride, int padding) implements LayerSpec {
        public Conv2d {
            checkConv("conv2d", outChannels, kernel, stride, padding);
        }
    }

    /**
     * A transposed 2-D convolution (PyTorch's ConvTranspose2d(in, outChannels, kernel, stride,
     * padding)), for decoders: output (in - 1) stride - 2 padding + kernel per side; weight (in,
     * outChannels, kernel, kernel), bias (outChannels).
     */
    record ConvTranspose2d(int outChannels, int kernel, int stride, int padding) implements LayerSpec {
        public ConvTranspose2d {
            checkConv("conv_transpose2d", outChannels, kernel, stride, padding);
        }
    }

    /** Nearest-neighbour upsampling of an image by an integer factor per side. */
    record Upsample(int factor) implements LayerSpec {
        public Upsample {
            if (factor < 2 || factor > 64) {
                throw new IllegalArgumentException("upsample(" + factor + "): the factor must be from 2 to 64");
            }
        }
    }

    /** Max pooling of each channel in kernel x kernel windows moved by stride (no padding). */
    record MaxPool(int kernel, int stride) implements LayerSpec {
        public MaxPool {
            checkPool("max_pool", kernel, stride);
        }
    }

    /** Average pooling of each channel in kernel x kernel windows moved by stride (no padding). */
    record AvgPool(int kernel, int stride) implements LayerSpec {
        public AvgPool {
            checkPool("avg_pool", kernel, stride);
        }
    }

    /** An image as a feature vector, channels first (torch.flatten's order). */
    record Flatten() implements LayerSpec {
    }

    /** A feature vector (or image) seen as an image of channels x height x width (its size must match). */
    record Reshape(int channels, int height, int width) implements LayerSpec {
        public Reshape {
            if (channels <= 0 || height <= 0 || width <= 0) {
                throw new IllegalArgumentException("reshape(" + channels + ", " + height + ", " + width + "): every size must be positive");
            }
        }
    }

    /**
     * A residual block on an image of C channels, as VQ-VAE encoders use: y = x + conv2(relu(conv1(x)))
     * with conv1 and conv2 3x3 convolutions of C channels, padding 1 (the shape is kept). Parameters
     * {@code conv1.weight/bias}, {@code conv2.weight/bias} under the layer's name.
     */
    record ResidualBlock() implements LayerSpec {
    }

    // ------------------------------------------------------------------ what every kind says of itself

    /** True for the noise layers, which act in training only. */
    default boolean isNoise() {
        return switch (this) {
            case GaussianNoise g -> true;
            case MaskingNoise m -> true;
            case SaltAndPepper s -> true;
            case Dropout d -> true;
            case Dense d -> false;
            case ActivationLayer a -> false;
            case Sparsity s -> false;
            case ActivityL1 a -> false;
            case BatchNorm b -> false;
            case Conv2d c -> false;
            case ConvTranspose2d c -> false;
            case Upsample u -> false;
            case MaxPool m -> false;
            case AvgPool a -> false;
            case Flatten f -> false;
            case Reshape r -> false;
            case ResidualBlock r -> false;
        };
    }

    /** True for the penalties, which add a term to the objective and pass their input through. */
    default boolean isPenalty() {
        return switch (this) {
            case Sparsity s -> true;
            case ActivityL1 a -> true;
            case Dense d -> false;
            case ActivationLayer a -> false;
            case GaussianNoise g -> false;
            case MaskingNoise m -> false;
            case SaltAndPepper s -> false;
            case Dropout d -> false;
            case BatchNorm b -> false;
            case Conv2d c -> false;
            case ConvTranspose2d c -> false;
            case Upsample u -> false;
            case MaxPool m -> false;
            case AvgPool a -> false;
            case Flatten f -> false;
            case Reshape r -> false;
            case ResidualBlock r -> false;
        };
    }

    /** True for the layers with a weight (dense, convolutions, residual blocks): what a decoder must have. */
    default boolean hasWeights() {
        return this instanceof Dense || this instanceof Conv2d || this instanceof ConvTranspose2d || this instanceof ResidualBlock;
    }

    /**
     * The per-sample output shape for an input of shape {@code in}; throws naming the layer and
     * both shapes when it does not fit (a convolution on features, a window larger than the image).
     */
    default Shape outputShape(Shape in) {
        String name = describe();
        return switch (this) {
            case Dense d -> {
                if (in.spatial()) {
                    throw new IllegalArgumentException(name + " takes a feature vector but its input is " + in + " (put flatten() before it)");
                }
                yield Shape.features(d.units());
            }
            case Conv2d c -> shape(in.convolved(name, c.outChannels(), c.kernel(), c.stride(), c.padding(), false));
            case ConvTranspose2d c -> shape(in.convolved(name, c.outChannels(), c.kernel(), c.stride(), c.padding(), true));
            case Upsample u -> in.upsampled(name, u.factor());
            case MaxPool m -> in.pooled(name, m.kernel(), m.stride());
            case AvgPool a -> in.pooled(name, a.kernel(), a.stride());
            case Flatten f -> in.flattened();
            case Reshape r -> {
                if ((long) r.channels() * r.height() * r.width() != in.size()) {
                    throw new IllegalArgumentException(name + " needs " + (long) r.channels() * r.height() * r.width()
                            + " values but its input " + in + " has " + in.size());
                }
                yield Shape.image(r.channels(), r.height(), r.width());
            }
            case ResidualBlock r -> {
                in.convolved(name, in.channels(), 3, 1, 1, false);
                yield in;
            }
            case ActivationLayer a -> in;
            case GaussianNoise g -> in;
            case MaskingNoise m -> in;
            case SaltAndPepper p -> in;
            case Dropout d -> in;
            case Sparsity p -> in;
            case ActivityL1 a -> in;
            case BatchNorm b -> in;
        };
    }

    /** Trained parameters of the layer on an input of shape {@code in} (state such as running statistics not counted). */
    default long trainedParameters(Shape in) {
        return switch (this) {
            case Dense d -> (long) in.size() * d.units() + d.units();
            case BatchNorm b -> 2L * in.channels();
            case Conv2d c -> (long) in.channels() * c.outChannels() * c.kernel() * c.kernel() + c.outChannels();
            case ConvTranspose2d c -> (long) in.channels() * c.outChannels() * c.kernel() * c.kernel() + c.outChannels();
            case ResidualBlock r -> 2L * ((long) in.channels() * in.channels() * 9 + in.channels());
            case ActivationLayer a -> 0;
            case GaussianNoise g -> 0;
            case MaskingNoise m -> 0;
            case SaltAndPepper s -> 0;
            case Dropout d -> 0;
            case Sparsity s -> 0;
            case ActivityL1 a -> 0;
            case Upsample u -> 0;
            case MaxPool m -> 0;
            case AvgPool a -> 0;
            case Flatten f -> 0;
            case Reshape r -> 0;
        };
    }

    private static Shape shape(ConvShape c) {
        return Shape.image(c.outChannels(), c.outHeight(), c.outWidth());
    }

    /** e.g. "dense(512)", "relu", "leaky_relu(0.01)", "dropout(0.2)", "sparsity(0.05, 3.0)". */
    default String describe() {
        return switch (this) {
            case Dense d -> "dense(" + d.units() + ")";
            case ActivationLayer a -> switch (a.activation()) {
                case LEAKY_RELU, ELU -> name(a.activation()) + "(" + a.parameter() + ")";
                case IDENTITY, RELU, TANH, SIGMOID, SOFTPLUS, EXP, LOG -> name(a.activation());
            };
            case GaussianNoise g -> "gaussian_noise(" + g.stddev() + ")";
            case MaskingNoise m -> "masking_noise(" + m.probability() + ")";
            case SaltAndPepper s -> "salt_and_pepper(" + s.probability() + ")";
            case Dropout d -> "dropout(" + d.probability() + ")";
            case Sparsity s -> "sparsity(" + s.rho() + ", " + s.weight() + ")";
            case ActivityL1 a -> "activity_l1(" + a.weight() + ")";
            case BatchNorm b -> "batch_norm(" + b.momentum() + ", " + b.epsilon() + ")";
            case Conv2d c -> "conv2d(" + c.outChannels() + ", " + c.kernel() + ", stride " + c.stride() + ", padding " + c.padding() + ")";
            case ConvTranspose2d c -> "conv_transpose2d(" + c.outChannels() + ", " + c.kernel() + ", stride " + c.stride() + ", padding "
                    + c.padding() + ")";
            case Upsample u -> "upsample(" + u.factor() + ")";
            case MaxPool m -> "max_pool(" + m.kernel() + ", stride " + m.stride() + ")";
            case AvgPool a -> "avg_pool(" + a.kernel() + ", stride " + a.stride() + ")";
            case Flatten f -> "flatten";
            case Reshape r -> "reshape(" + r.channels() + ", " + r.height() + ", " + r.width() + ")";
            case ResidualBlock r -> "residual_block";
        };
    }

    /** The layer's JSON object, e.g. {"dense": 512}, {"activation": "leaky_relu", "parameter": 0.01}. */
    default Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (this) {
            case Dense d -> m.put("dense", d.units());
            case ActivationLayer a -> {
                m.put("activation", name(a.activation()));
                if (a.activation() == Activation.LEAKY_RELU || a.activation() == Activation.ELU) {
                    m.put("parameter", (double) a.parameter());
                }
            }
            case GaussianNoise g -> m.put("gaussian_noise", (double) g.stddev());
            case MaskingNoise k -> m.put("masking_noise", (double) k.probability());
            case SaltAndPepper s -> m.put("salt_and_pepper", (double) s.probability());
            case Dropout d -> m.put("dropout", (double) d.probability());
            case Sparsity s -> {
                m.put("sparsity", (double) s.rho());
                m.put("weight", (double) s.weight());
            }
            case ActivityL1 a -> m.put("activity_l1", (double) a.weight());
            case BatchNorm b -> {
                m.put("batch_norm", (double) b.momentum());
                m.put("epsilon", (double) b.epsilon());
            }
            case Conv2d c -> convJson(m, "conv2d", c.outChannels(), c.kernel(), c.stride(), c.padding());
            case ConvTranspose2d c -> convJson(m, "conv_transpose2d", c.outChannels(), c.kernel(), c.stride(), c.padding());
            case Upsample u -> m.put("upsample", u.factor());
            case MaxPool p -> {
                m.put("max_pool", p.kernel());
                m.put("stride", p.stride());
            }
            case AvgPool p -> {
                m.put("avg_pool", p.kernel());
                m.put("stride", p.stride());
            }
            case Flatten f -> m.put("flatten", true);
            case Reshape r -> m.put("reshape", List.of(r.channels(), r.height(), r.width()));
            case ResidualBlock r -> m.put("residual_block", true);
        }
        return m;
    }

    /** The JSON keys that name a layer kind, in the order {@link #fromJson} tries them. */
    List<String> JSON_KINDS = List.of("dense", "activation", "gaussian_noise", "masking_noise", "salt_and_pepper", "dropout",
            "sparsity", "activity_l1", "batch_norm", "conv2d", "conv_transpose2d", "upsample", "max_pool", "avg_pool", "flatten", "reshape",
            "residual_block");

    /**
     * Reads a layer written by {@link #toJson()}. {@code at} names it in errors (e.g.
     * "encoder[2]"); numbers are read by {@code number} (which names the field when one is wrong).
     */
    static LayerSpec fromJson(Map<?, ?> l, String at, Numbers number) {
        String kind = null;
        for (String k : JSON_KINDS) {
            if (l.containsKey(k)) {
                kind = k;
                break;
            }
        }
        if (kind == null) {
            throw new IllegalArgumentException("unknown layer " + Json.write(l) + " (expected one of " + String.join(", ", JSON_KINDS) + ")");
        }
        return switch (kind) {
            case "dense" -> new Dense(number.integer(l.get("dense"), at + ".dense"));
            case "activation" -> {
                Activation a = null;
                if (l.get("activation") instanceof String s) {
                    for (Activation c : Activation.values()) {
                        if (c.name().equalsIgnoreCase(s)) {
                            a = c;
                        }
                    }
                }
                if (a == null) {
                    throw new IllegalArgumentException("model spec: unknown " + at + ".activation " + Json.write(l.get("activation")));
                }
                yield new ActivationLayer(a, l.containsKey("parameter") ? number.real(l.get("parameter"), at + ".parameter") : 0f);
            }
            case "gaussian_noise" -> new GaussianNoise(number.real(l.get(kind), at + "." + kind));
            case "masking_noise" -> new MaskingNoise(number.real(l.get(kind), at + "." + kind));
            case "salt_and_pepper" -> new SaltAndPepper(number.real(l.get(kind), at + "." + kind));
            case "dropout" -> new Dropout(number.real(l.get(kind), at + "." + kind));
            case "sparsity" -> new Sparsity(number.real(l.get("sparsity"), at + ".sparsity"), number.real(l.get("weight"), at + ".weight"));
            case "activity_l1" -> new ActivityL1(number.real(l.get("activity_l1"), at + ".activity_l1"));
            case "batch_norm" -> new BatchNorm(number.real(l.get("batch_norm"), at + ".batch_norm"),
                    l.containsKey("epsilon") ? number.real(l.get("epsilon"), at + ".epsilon") : 1e-5f);
            case "conv2d" -> new Conv2d(number.integer(l.get(kind), at + "." + kind), number.integer(l.get("kernel"), at + ".kernel"),
                    number.integer(l.get("stride"), at + ".stride"), number.integer(l.get("padding"), at + ".padding"));
            case "conv_transpose2d" -> new ConvTranspose2d(number.integer(l.get(kind), at + "." + kind),
                    number.integer(l.get("kernel"), at + ".kernel"), number.integer(l.get("stride"), at + ".stride"),
                    number.integer(l.get("padding"), at + ".padding"));
            case "upsample" -> new Upsample(number.integer(l.get(kind), at + "." + kind));
            case "max_pool" -> new MaxPool(number.integer(l.get(kind), at + "." + kind), number.integer(l.get("stride"), at + ".stride"));
            case "avg_pool" -> new AvgPool(number.integer(l.get(kind), at + "." + kind), number.integer(l.get("stride"), at + ".stride"));
            case "flatten" -> new Flatten();
            case "reshape" -> {
                if (!(l.get(kind) instanceof List<?> dims) || dims.size() != 3) {
                    throw new IllegalArgumentException("model spec: \"" + at + ".reshape\" must be [channels, height, width], got "
                            + Json.write(l.get(kind)));
                }
                yield new Reshape(number.integer(dims.get(0), at + ".reshape[0]"), number.integer(dims.get(1), at + ".reshape[1]"),
                        number.integer(dims.get(2), at + ".reshape[2]"));
            }
            case "residual_block" -> new ResidualBlock();
            default -> throw new IllegalStateException("JSON_KINDS names " + kind + " but fromJson does not read it");
        };
    }

    /** How {@link #fromJson} reads numbers (the model spec's reader, which names the field in its errors). */
    interface Numbers {
        int integer(Object v, String where);

        float real(Object v, String where);
    }

    private static String name(Activation a) {
        return a.name().toLowerCase(Locale.ROOT);
    }

    private static void convJson(Map<String, Object> m, String kind, int out, int kernel, int stride, int padding) {
        m.put(kind, out);
        m.put("kernel", kernel);
        m.put("stride", stride);
        m.put("padding", padding);
    }

    private static void checkConv(String what, int out, int kernel, int stride, int padding) {
        if (out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException(what + "(" + out + ", " + kernel + ", stride " + stride + ", padding " + padding
                    + "): channels, kernel and stride must be positive and padding not negative");
        }
    }

    private static void checkPool(String what, int kernel, int stride) {
        if (kernel <= 0 || stride <= 0) {
            throw new IllegalArgumentException(what + "(" + kernel + ", stride " + stride + "): kernel and stride must be positive");
        }
    }

    private static void checkProbability(String what, float p) {
        if (!(p > 0f && p < 1f)) {
            throw new IllegalArgumentException(what + "(" + p + "): the probability must be in (0, 1)");
        }
    }

    private static void checkWeight(String what, float w) {
        if (!(w > 0f && Float.isFinite(w))) {
            throw new IllegalArgumentException(what + ": the penalty weight must be positive and finite, got " + w);
        }
    }
}
