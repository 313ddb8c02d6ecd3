package org.latent4j.graph;

import org.latent4j.kernel.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.dsl.LatentSpec;
import org.latent4j.dsl.LayerSpec;
import org.latent4j.dsl.LikelihoodSpec;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.ConvShape;
import org.latent4j.graph.Ops.Activate;

/**
 * The static graph of a model: nodes in topological order, the parameter arena layout, and the
 * roles of a few nodes (input, latent mean / log-variance / code, decoder output, loss terms).
 * Built from a {@link ModelSpec} with every shape checked; {@link #fuse()} gives the fused graph.
 */
public final class Graph {
    private final ModelSpec spec;
    private final List<Node> nodes;
    private final Map<String, ParamSpec> params;
    private final int paramCount;
    private final int trainableCount;
    /** Node ids of the roles; -1 when absent. */
    public final int input;
    public final int mu;
    public final int logvar;
    public final int code;
    public final int z;
    public final int output;
    public final int recon;
    public final int kl;
    /** First node of the decoder (it reads z). */
    public final int decoderStart;
    /** The condition input of a conditional model, else -1. */
    public final int condition;
    /** The penalty nodes (sparsity, activity, contractive), each a per-sample term of the objective. */
    public final List<Integer> penalties;
    /**
     * The node holding the output of each encoder layer of the spec, by the layer's index (a
     * penalty layer's is its input's). In a fused graph a dense layer followed by its activation
     * shares the fused node, which holds the activation's output.
     */
    public final List<Integer> encoderOutputs;

    private Graph(ModelSpec spec, List<Node> nodes, Map<String, ParamSpec> params, int paramCount, int trainableCount,
                  int input, int mu, int logvar, int code, int z, int output, int recon, int kl, int decoderStart,
                  int condition, List<Integer> penalties, List<Integer> encoderOutputs) {
        this.spec = spec;
        this.nodes = List.copyOf(nodes);
        this.params = params;
        this.paramCount = paramCount;
        this.trainableCount = trainableCount;
        this.input = input;
        this.mu = mu;
        this.logvar = logvar;
        this.code = code;
        this.z = z;
        this.output = output;
        this.recon = recon;
        this.kl = kl;
        this.decoderStart = decoderStart;
        this.condition = condition;
        this.penalties = List.copyOf(penalties);
        this.encoderOutputs = List.copyOf(encoderOutputs);
    }

    public ModelSpec spec() {
        return spec;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Node node(int id) {
        return nodes.get(id);
    }

    /** Parameters in arena order, by name. */
    public Map<String, ParamSpec> params() {
        return params;
    }

    public ParamSpec param(String name) {
        ParamSpec p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return p;
    }

    /** Total floats in the parameter arena. */
    public int paramCount() {
        return paramCount;
    }

    /**
     * Floats of the trained tensors, which come first in the arena: [0, trainableCount) is what
     * the optimizer updates; the rest is state kept by the forward pass (running statistics).
     */
    public int trainableCount() {
        return trainableCount;
    }

    // ------------------------------------------------------------------ building

    private static final class Builder {
        final List<Node> nodes = new ArrayList<>();
        final Map<String, ParamSpec> params = new LinkedHashMap<>();
        final List<Integer> penalties = new ArrayList<>();
        final List<Integer> encoderOutputs = new ArrayList<>();
        int offset;
        int noiseLayers;

        /** A node whose shape its op infers from its inputs and parameters (errors name the layer). */
        int add(Op op, List<Integer> in, String name, List<String> ps) {
            List<Shape> shapes = new ArrayList<>();
            for (int i : in) {
                shapes.add(nodes.get(i).shape());
            }
            List<ParamSpec> specs = new ArrayList<>();
            for (String p : ps) {
                specs.add(params.get(p));
            }
            int id = nodes.size();
            nodes.add(new Node(id, op, in, op.shape(name, shapes, specs), name, ps));
            return id;
        }

        String param(String name, int rows, int cols, ParamSpec.Init init, int fanIn, int fanOut) {
            return param(name, rows, cols, init, fanIn, fanOut,
                    init == ParamSpec.Init.HE || init == ParamSpec.Init.XAVIER ? ParamSpec.Role.WEIGHT : ParamSpec.Role.VECTOR);
        }

        /** A tensor of the arena; STATE tensors get their offsets after every trained one ({@link #placeState}). */
        String param(String name, int rows, int cols, ParamSpec.Init init, int fanIn, int fanOut, ParamSpec.Role role) {
            long end = (long) offset + (long) rows * cols;
            if (end > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("the model has more than 2^31 parameters (at " + name + ")");
            }
            if (role == ParamSpec.Role.STATE) {
                params.put(name, new ParamSpec(name, rows, cols, -1, init, fanIn, fanOut, role));
                return name;
            }
            params.put(name, new ParamSpec(name, rows, cols, offset, init, fanIn, fanOut, role));
            offset = (int) end;
            return name;
        }

        /** Gives the state tensors their offsets after the trained ones (the map keeps the model's order); returns the trained floats. */
        int placeState() {
            int trainable = offset;
            for (Map.Entry<String, ParamSpec> e : params.entrySet()) {
                ParamSpec p = e.getValue();
                if (p.role() == ParamSpec.Role.STATE) {
                    long end = (long) offset + p.size();
                    if (end > Integer.MAX_VALUE - 16) {
                        throw new IllegalArgumentException("the model has more than 2^31 parameters (at " + p.name() + ")");
                    }
                    e.setValue(p.at(offset));
                    offset = (int) end;
                }
            }
            return trainable;
        }

        /** A convolution (or transposed convolution) weight and bias, He init when a ReLU-like activation follows, else Xavier. */
        int conv(int x, ConvShape geometry, String prefix, Activation next) {
            ParamSpec.Init init = next == Activation.RELU || next == Activation.LEAKY_RELU || next == Activation.ELU
                    ? ParamSpec.Init.HE : ParamSpec.Init.XAVIER;
            int k = geometry.kernelHeight(), kk = k * k;
            int first = geometry.transposed() ? geometry.inChannels() : geometry.outChannels();
            int second = geometry.transposed() ? geometry.outChannels() : geometry.inChannels();
            // fan in / out of a conv as PyTorch counts them: the second and first weight dimension times the kernel area
            String w = name(prefix + ".weight");
            long end = (long) offset + (long) first * second * kk;
            if (end > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("the model has more than 2^31 parameters (at " + w + ")");
            }
            params.put(w, new ParamSpec(w, first, second * kk, offset, init, geometry.inChannels() * kk, geometry.outChannels() * kk,
                    ParamSpec.Role.WEIGHT, k));
            offset = (int) end;
            String b = param(prefix + ".bias", geometry.outChannels(), 1, ParamSpec.Init.ZERO, geometry.inChannels() * kk,
                    geometry.outChannels() * kk);
            return add(new Ops.Conv(geometry), List.of(x), prefix + " " + (geometry.transposed() ? "conv_transpose2d" : "conv2d"), List.of(w, b));
        }

        /** A masked convolution (stride 1, same padding) with its weight's masked taps zero from the start ({@link Ops.MaskedConv}). */
        int maskedConv(int x, int out, int k, boolean typeA, String prefix, Activation next) {
            Shape shape = nodes.get(x).shape();
            ConvShape geometry = shape.convolved(prefix, out, k, 1, k / 2, false);
            int c = conv(x, geometry, prefix, next);
            Node n = nodes.get(c);
            nodes.set(c, new Node(c, new Ops.MaskedConv(geometry, typeA), n.inputs(), n.shape(), prefix + " masked_conv2d_" + (typeA ? "A" : "B"),
                    n.params()));
            return c;
        }

        private String name(String n) {
            if (params.containsKey(n)) {
                throw new IllegalStateException("two tensors named " + n);
            }
            return n;
        }

        /** A dense layer as MATMUL + BIAS_ADD; He init when a ReLU-like activation follows, else Xavier. */
        int dense(int x, int out, String prefix, Activation next) {
            int in = nodes.get(x).width();
            ParamSpec.Init init = next == Activation.RELU || next == Activation.LEAKY_RELU || next == Activation.ELU
                    ? ParamSpec.Init.HE : ParamSpec.Init.XAVIER;
            String w = param(prefix + ".weight", out, in, init, in, out);
            String b = param(prefix + ".bias", out, 1, ParamSpec.Init.ZERO, in, out);
            int m = add(new Ops.MatMul(), List.of(x), prefix, List.of(w));
            return add(new Ops.BiasAdd(), List.of(m), prefix, List.of(b));
        }

        /** Layers {@code from} (inclusive) to {@code to} of the list, named by their position in it; returns the last node. */
        int layers(int x, List<LayerSpec> layers, String prefix, int from, int to) {
            int h = x;
            for (int i = from; i < to; i++) {
                LayerSpec l = layers.get(i);
                String name = prefix + "." + i + " " + l.describe();
                try {
                    h = layer(h, l, layers, i, prefix, name);
                } catch (IllegalArgumentException e) {
                    throw e.getMessage().startsWith(prefix + "." + i) ? e : new IllegalArgumentException(prefix + "." + i + " " + e.getMessage(), e);
                }
                if (prefix.equals("encoder")) {
                    encoderOutputs.add(h);
                }
            }
            return h;
        }

        /** One layer of the spec on node h; returns the node of its output. */
        int layer(int h, LayerSpec l, List<LayerSpec> layers, int i, String prefix, String name) {
            Shape shape = nodes.get(h).shape();
            Activation next = i + 1 < layers.size() && layers.get(i + 1) instanceof LayerSpec.ActivationLayer a ? a.activation() : null;
            switch (l) {
                case LayerSpec.Dense d -> {
                    if (shape.spatial()) {
                        throw new IllegalArgumentException(name + " takes a feature vector but its input is " + shape + " (put flatten() before it)");
                    }
                    h = dense(h, d.units(), prefix + "." + i, next);
                }
                case LayerSpec.Conv2d c -> h = conv(h, shape.convolved(name, c.outChannels(), c.kernel(), c.stride(), c.padding(), false),
                        prefix + "." + i, next);
                case LayerSpec.ConvTranspose2d c -> h = conv(h, shape.convolved(name, c.outChannels(), c.kernel(), c.stride(), c.padding(),
                        true), prefix + "." + i, next);
                case LayerSpec.Upsample u -> h = add(new Ops.Upsample(u.factor()), List.of(h), name, List.of());
                case LayerSpec.MaxPool m -> h = add(new Ops.Pool(true, m.kernel(), m.stride()), List.of(h), name, List.of());
                case LayerSpec.AvgPool a -> h = add(new Ops.Pool(false, a.kernel(), a.stride()), List.of(h), name, List.of());
                case LayerSpec.Flatten f -> h = add(new Ops.Reshape(shape.flattened()), List.of(h), name, List.of());
                case LayerSpec.Reshape r -> {
                    l.outputShape(shape); // the size check, with the layer's message
                    h = add(new Ops.Reshape(Shape.image(r.channels(), r.height(), r.width())), List.of(h), name, List.of());
                }
                case LayerSpec.ResidualBlock r -> {
                    String p = prefix + "." + i;
                    ConvShape same = shape.convolved(name, shape.channels(), 3, 1, 1, false);
                    int c1 = conv(h, same, p + ".conv1", Activation.RELU);
                    int a1 = add(new Activate(Activation.RELU, 0f), List.of(c1), p + ".conv1 relu", List.of());
                    int c2 = conv(a1, same, p + ".conv2", null);
                    h = add(new Ops.Add(), List.of(h, c2), p + " " + l.describe(), List.of());
                }
                case LayerSpec.ActivationLayer a -> h = add(new Activate(a.activation(), a.parameter()), List.of(h), name, List.of());
                case LayerSpec.GaussianNoise g -> h = noise(h, Ops.NoiseKind.GAUSSIAN, g.stddev(), name);
                case LayerSpec.MaskingNoise m -> h = noise(h, Ops.NoiseKind.MASKING, m.probability(), name);
                case LayerSpec.SaltAndPepper s -> h = noise(h, Ops.NoiseKind.SALT_AND_PEPPER, s.probability(), name);
                case LayerSpec.Dropout d -> h = noise(h, Ops.NoiseKind.DROPOUT, d.probability(), name);
                case LayerSpec.Sparsity s -> penalties.add(add(new Ops.SparsityKl(s.rho(), s.weight()), List.of(h), name, List.of()));
                case LayerSpec.ActivityL1 a -> penalties.add(add(new Ops.ActivityL1(a.weight()), List.of(h), name, List.of()));
                case LayerSpec.BatchNorm b -> {
                    String p = prefix + "." + i;
                    int ch = shape.channels(); // per feature, or per channel of an image
                    List<String> ps = List.of(
                            param(p + ".weight", ch, 1, ParamSpec.Init.ONE, ch, ch, ParamSpec.Role.VECTOR),
                            param(p + ".bias", ch, 1, ParamSpec.Init.ZERO, ch, ch, ParamSpec.Role.VECTOR),
                            param(p + ".running_mean", ch, 1, ParamSpec.Init.ZERO, ch, ch, ParamSpec.Role.STATE),
                            param(p + ".running_var", ch, 1, ParamSpec.Init.ONE, ch, ch, ParamSpec.Role.STATE));
                    h = add(new Ops.BatchNormalize(b.momentum(), b.epsilon()), List.of(h), p + " " + l.describe(), ps);
                }
            }
            return h;
        }

        /** The projection of a discrete latent's input to {@code dim} channels per position: a 1x1 convolution on a grid, else dense. */
        int project(int h, int dim, String prefix) {
            Shape s = nodes.get(h).shape();
            return s.spatial() ? conv(h, s.convolved(prefix + " conv2d(" + dim + ", 1)", dim, 1, 1, 0, false), prefix, null)
                    : dense(h, dim, prefix, null);
        }

        /**
         * A VQ-VAE bottleneck on z_e: sg(z_e) quantized to its nearest codes e, the straight-through
         * z_e + sg(e - z_e) for the decoder, and the codebook loss ||sg(z_e) - e||^2 and commitment
         * loss beta ||z_e - sg(e)||^2 as penalties; returns the straight-through node.
         */
        int vectorQuantized(int ze, LatentSpec.VectorQuantized v) {
            int k = v.codes(), dim = v.lookupDim();
            int sgz = add(new Ops.StopGradient(), List.of(ze), "quantizer sg(z_e)", List.of());
            List<String> ps = new ArrayList<>(List.of(
                    param("quantizer.embedding.weight", k, dim, ParamSpec.Init.XAVIER, dim, k, v.ema() ? ParamSpec.Role.STATE : ParamSpec.Role.WEIGHT),
                    param("quantizer.cluster_size", k, 1, ParamSpec.Init.ZERO, k, k, ParamSpec.Role.STATE),
                    param("quantizer.revived", 1, 1, ParamSpec.Init.ZERO, 1, 1, ParamSpec.Role.STATE)));
            if (v.ema()) {
                ps.add(param("quantizer.embed_avg", k, dim, ParamSpec.Init.ZERO, dim, k, ParamSpec.Role.STATE));
            }
            int codes = add(new Ops.VectorQuantize(k, dim, v.cosine(), v.ema(), v.decay(), 1e-5f, v.deadThreshold(),
                    v.kmeansIterations()), List.of(sgz),
                    "quantizer vector_quantize(" + k + ", " + dim + ")", ps);
            int st = add(new Ops.StraightThrough(), List.of(ze, codes), "quantizer straight-through", List.of());
            int sge = add(new Ops.StopGradient(), List.of(codes), "quantizer sg(e)", List.of());
            penalties.add(add(new Ops.QuantizationLoss(1f, true), List.of(sgz, codes), "quantizer codebook loss", List.of()));
            penalties.add(add(new Ops.QuantizationLoss(v.beta(), false), List.of(ze, sge), "quantizer commitment loss(" + v.beta() + ")", List.of()));
            return st;
        }

        /** A noise layer: the k-th of the model (in order) draws from its own part of the step's random stream. */
        int noise(int x, Ops.NoiseKind kind, float amount, String name) {
            return add(new Ops.Noise(kind, amount, Ops.Noise.streamStart(noiseLayers++)), List.of(x), name, List.of());
        }
    }

    /** How many noise or dropout layers open the list (they corrupt a conditional model's input before the join). */
    static int leadingNoiseLayers(List<LayerSpec> layers) {
        int n = 0;
        while (n < layers.size() && layers.get(n).isNoise()) {
            n++;
        }
        return n;
    }

    /** Builds the graph of a spec whose input width is known; errors name the layer and both widths. */
    public static Graph build(ModelSpec spec) {
        if (spec.inputDim() <= 0) {
            throw new IllegalArgumentException("the model's input width is not known yet: give encoder(width) or compile with data");
        }
        Builder g = new Builder();
        int d = spec.inputDim();
        int cd = spec.conditionDim();
        int x = g.add(new Ops.Input(spec.sampleShape()), List.of(), "input", List.of());
        int cond = cd > 0 ? g.add(new Ops.Input(Shape.features(cd)), List.of(), "condition", List.of()) : -1;
        // Input corruption (the noise layers before anything else) corrupts the input, never the condition.
        int lead = cd > 0 ? leadingNoiseLayers(spec.encoder()) : 0;
        int corrupted = g.layers(x, spec.encoder(), "encoder", 0, lead);
        // An image joins its condition as cd constant planes (the first layer sees the condition at every pixel).
        int encIn = cd == 0 ? x : spec.sampleShape().spatial()
                ? g.add(new Ops.ConcatPlanes(), List.of(corrupted, cond), "input joined with condition (" + cd + " planes)", List.of())
                : g.add(new Ops.Concat(), List.of(corrupted, cond), "input joined with condition", List.of());
        int h = g.layers(encIn, spec.encoder(), "encoder", lead, spec.encoder().size());
        LatentSpec lat = spec.latent();
        int zd = lat.dim();
        int mu = -1, logvar = -1, code = -1, z, kl = -1;
        switch (lat) {
            case LatentSpec.Gaussian gl -> {
                mu = g.dense(h, zd, "fc_mu", null);
                logvar = g.dense(h, zd, "fc_logvar", null);
                if (gl.clampsLogVariance()) {
                    logvar = g.add(new Ops.Clamp(gl.logvarMin(), gl.logvarMax()), List.of(logvar),
                            "fc_logvar clamp(" + gl.logvarMin() + ", " + gl.logvarMax() + ")", List.of());
                }
                z = g.add(new Ops.Reparameterize(), List.of(mu, logvar), "z", List.of());
                kl = g.add(new Ops.GaussianKl(), List.of(mu, logvar), "kl", List.of());
            }
            case LatentSpec.VectorQuantized vq -> {
                int st = g.vectorQuantized(g.project(h, vq.lookupDim(), "quantizer.project"), vq);
                code = vq.codebookDim() > 0 ? g.project(st, zd, "quantizer.project_out") : st;
                z = code;
            }
            case LatentSpec.FiniteScalar fs -> {
                int ze = g.project(h, zd, "quantizer.project");
                code = g.add(new Ops.FiniteScalarQuantize(fs.levelArray()), List.of(ze), "quantizer fsq" + fs.levels(), List.of());
                z = code;
            }
            case LatentSpec.Deterministic det -> {
                Activation act = det.activation();
                code = g.dense(h, zd, "latent", act == Activation.IDENTITY ? null : act);
                if (act != Activation.IDENTITY) {
                    code = g.add(new Activate(act, 0f), List.of(code), "latent " + act.name().toLowerCase(java.util.Locale.ROOT), List.of());
                }
                if (det.contractive() > 0f) {
                    g.penalties.add(g.add(new Ops.Contractive(det.contractive(), act), List.of(code),
                            "latent contractive(" + det.contractive() + ")", List.of("latent.weight")));
                }
                z = code;
            }
        }
        int decoderStart = g.nodes.size();
        int decIn = cd > 0 ? g.add(new Ops.Concat(), List.of(z, cond), "z joined with condition", List.of()) : z;
        int out = g.layers(decIn, spec.decoder(), "decoder", 0, spec.decoder().size());
        Shape outShape = g.nodes.get(out).shape();
        if (outShape.size() != d) {
            throw new IllegalArgumentException("decoder output has " + (outShape.spatial() ? "shape " + outShape + " (" + outShape.size()
                    + " values)" : outShape.size() + " features") + " but the input has " + d + (spec.inputShape() == null ? " (make the decoder's last dense layer dense(" + d + "))"
                    : " (" + spec.inputShape() + ")"));
        }
        int recon = switch (spec.likelihood()) {
            case LikelihoodSpec.Bernoulli _ -> g.add(new Ops.BernoulliNll(), List.of(out, x), "reconstruction", List.of());
            case LikelihoodSpec.GaussianFixed gf -> g.add(new Ops.GaussianNll(gf.variance()), List.of(out, x), "reconstruction", List.of());
            case LikelihoodSpec.GaussianLearned _ -> g.add(new Ops.GaussianNll(0f), List.of(out, x), "reconstruction",
                    List.of(g.param("decoder_logvar", d, 1, ParamSpec.Init.ZERO, d, d)));
            case LikelihoodSpec.GaussianLearnedGlobal _ -> g.add(new Ops.GaussianNll(0f), List.of(out, x), "reconstruction",
                    List.of(g.param("decoder_logvar", 1, 1, ParamSpec.Init.ZERO, d, d)));
            case LikelihoodSpec.Huber hu -> g.add(new Ops.HuberLoss(hu.delta()), List.of(out, x), "reconstruction", List.of());
        };
        int trainable = g.placeState();
        Graph graph = new Graph(spec, g.nodes, g.params, g.offset, trainable, x, mu, logvar, code, z, out, recon, kl, decoderStart,
                cond, g.penalties, g.encoderOutputs);
        graph.infer();
        return graph;
    }

    /**
     * The graph of a PixelCNN prior over code grids ({@link org.latent4j.dsl.PixelCnnSpec}): the
     * input is a 1 x H x W grid of indices (as floats), {@link #output} the codes x H x W logits,
     * {@link #recon} the per-sample -log likelihood of the input grid (its one objective term).
     * Tensors are named as a PyTorch module's: {@code prior.embedding.weight}, {@code prior.conv_in.*},
     * {@code prior.blocks.i.conv1.*} / {@code conv2.*}, {@code prior.conv_hidden.*}, {@code prior.conv_out.*}.
     * The graph has no model spec ({@link #spec()} is null), no latent and no decoder.
     */
    public static Graph pixelCnn(org.latent4j.dsl.PixelCnnSpec s) {
        Builder g = new Builder();
        int x = g.add(new Ops.Input(Shape.image(1, s.height(), s.width())), List.of(), "prior input (code indices)", List.of());
        String emb = g.param("prior.embedding.weight", s.codes(), s.embedding(), ParamSpec.Init.XAVIER, s.codes(), s.embedding());
        int h = g.add(new Ops.Embedding(s.codes(), s.embedding()), List.of(x), "prior.embedding", List.of(emb));
        h = g.maskedConv(h, s.channels(), s.kernel(), true, "prior.conv_in", Activation.RELU);
        h = g.add(new Activate(Activation.RELU, 0f), List.of(h), "prior.conv_in relu", List.of());
        for (int b = 0; b < s.blocks(); b++) {
            String p = "prior.blocks." + b;
            int c1 = g.maskedConv(h, s.channels(), 3, false, p + ".conv1", Activation.RELU);
            int a1 = g.add(new Activate(Activation.RELU, 0f), List.of(c1), p + ".conv1 relu", List.of());
            int c2 = g.maskedConv(a1, s.channels(), 3, false, p + ".conv2", Activation.RELU);
            int sum = g.add(new Ops.Add(), List.of(h, c2), p + " residual", List.of());
            h = g.add(new Activate(Activation.RELU, 0f), List.of(sum), p + " relu", List.of());
        }
        h = g.maskedConv(h, s.channels(), 1, false, "prior.conv_hidden", Activation.RELU);
        h = g.add(new Activate(Activation.RELU, 0f), List.of(h), "prior.conv_hidden relu", List.of());
        int out = g.maskedConv(h, s.codes(), 1, false, "prior.conv_out", null);
        int loss = g.add(new Ops.CategoricalNll(s.codes()), List.of(out, x), "prior log-likelihood", List.of());
        int trainable = g.placeState();
        Graph graph = new Graph(null, g.nodes, g.params, g.offset, trainable, x, -1, -1, -1, -1, out, loss, -1, -1, -1, List.of(), List.of());
        graph.infer();
        return graph;
    }

    /**
     * Shape checking: every node's shape is the one its op gives for its inputs and parameters.
     * Throws with the layer's name and both shapes when they disagree.
     */
    public void infer() {
        for (Node n : nodes) {
            List<Shape> in = new ArrayList<>();
            for (int i : n.inputs()) {
                if (i < 0 || i >= n.id()) {
                    throw new IllegalArgumentException(n.name() + ": input " + i + " does not come before the node");
                }
                in.add(nodes.get(i).shape());
            }
            List<ParamSpec> ps = new ArrayList<>();
            for (String p : n.params()) {
                ps.add(param(p));
            }
            Shape expected = n.op().shape(n.name(), in, ps);
            if (!expected.equals(n.shape())) {
                throw new IllegalArgumentException(n.name() + ": output has shape " + n.shape() + " but its op gives " + expected);
            }
        }
    }

    /**
     * The fused graph: each MatMul whose only consumer is a BiasAdd, and that BiasAdd's only
     * consumer if it is an Activate, become one Dense node (identity activation if none).
     */
    public Graph fuse() {
        int[] consumers = new int[nodes.size()];
        for (Node n : nodes) {
            for (int i : n.inputs()) {
                consumers[i]++;
            }
        }
        List<Node> out = new ArrayList<>();
        Map<Integer, Integer> remap = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (n.op() instanceof Ops.MatMul && consumers[i] == 1 && i + 1 < nodes.size()
                    && nodes.get(i + 1).op() instanceof Ops.BiasAdd && nodes.get(i + 1).input(0) == i) {
                Node bias = nodes.get(i + 1);
                int last = i + 1;
                Activation act = Activation.IDENTITY;
                float ap = 0f;
                if (consumers[i + 1] == 1 && i + 2 < nodes.size() && nodes.get(i + 2).op() instanceof Activate a
                        && nodes.get(i + 2).input(0) == i + 1) {
                    act = a.activation();
                    ap = a.parameter();
                    last = i + 2;
                }
                int id = out.size();
                out.add(new Node(id, new Ops.Dense(act, ap), List.of(remap.get(n.input(0))), nodes.get(last).shape(), n.name(),
                        List.of(n.params().get(0), bias.params().get(0))));
                for (int j = i; j <= last; j++) {
                    remap.put(j, id);
                }
                i = last;
                continue;
            }
            int id = out.size();
            List<Integer> in = new ArrayList<>();
            for (int k : n.inputs()) {
                in.add(remap.get(k));
            }
            out.add(new Node(id, n.op(), in, n.shape(), n.name(), n.params()));
            remap.put(i, id);
        }
        List<Integer> fusedPenalties = new ArrayList<>();
        for (int p : penalties) {
            fusedPenalties.add(map(remap, p));
        }
        List<Integer> fusedOutputs = new ArrayList<>();
        for (int o : encoderOutputs) {
            fusedOutputs.add(map(remap, o));
        }
        Graph g = new Graph(spec, out, params, paramCount, trainableCount, map(remap, input), map(remap, mu), map(remap, logvar), map(remap, code),
                map(remap, z), map(remap, output), map(remap, recon), map(remap, kl), map(remap, decoderStart),
                map(remap, condition), fusedPenalties, fusedOutputs);
        g.infer();
        return g;
    }

    /** The fused id of an unfused node id; -1 for a role the graph does not have. */
    private static int map(Map<Integer, Integer> remap, int id) {
        return remap.getOrDefault(id, -1);
    }
}
