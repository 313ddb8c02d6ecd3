package org.latent4j.graph;

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

        int add(Op op, List<Integer> in, int width, String name, List<String> ps, Activation a, float ap, float var) {
            return add(op, in, width, name, ps, a, ap, var, null);
        }

        int add(Op op, List<Integer> in, int width, String name, List<String> ps, Activation a, float ap, float var, LayerSpec layer) {
            int id = nodes.size();
            nodes.add(new Node(id, op, in, width, name, ps, a, ap, var, layer));
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
                    e.setValue(new ParamSpec(p.name(), p.rows(), p.cols(), offset, p.init(), p.fanIn(), p.fanOut(), p.role()));
                    offset = (int) end;
                }
            }
            return trainable;
        }

        /** A dense layer as MATMUL + BIAS_ADD; He init when a ReLU-like activation follows, else Xavier. */
        int dense(int x, int in, int out, String prefix, Activation next) {
            ParamSpec.Init init = next == Activation.RELU || next == Activation.LEAKY_RELU || next == Activation.ELU
                    ? ParamSpec.Init.HE : ParamSpec.Init.XAVIER;
            String w = param(prefix + ".weight", out, in, init, in, out);
            String b = param(prefix + ".bias", out, 1, ParamSpec.Init.ZERO, in, out);
            int m = add(Op.MATMUL, List.of(x), out, prefix, List.of(w), null, 0f, 0f);
            return add(Op.BIAS_ADD, List.of(m), out, prefix, List.of(b), null, 0f, 0f);
        }

        int[] layers(int x, int width, List<LayerSpec> layers, String prefix) {
            return layers(x, width, layers, prefix, 0, layers.size());
        }

        /** Layers {@code from} (inclusive) to {@code to} of the list, named by their position in it. */
        int[] layers(int x, int width, List<LayerSpec> layers, String prefix, int from, int to) {
            int h = x;
            for (int i = from; i < to; i++) {
                LayerSpec l = layers.get(i);
                switch (l.kind()) {
                    case DENSE -> {
                        Activation next = i + 1 < layers.size() && layers.get(i + 1).kind() == LayerSpec.Kind.ACTIVATION
                                ? layers.get(i + 1).activation() : null;
                        h = dense(h, width, l.units(), prefix + "." + i, next);
                        width = l.units();
                    }
                    case ACTIVATION -> h = add(Op.ACTIVATION, List.of(h), width, prefix + "." + i + " " + l.describe(),
                            List.of(), l.activation(), l.parameter(), 0f);
                    case GAUSSIAN_NOISE, MASKING_NOISE, SALT_AND_PEPPER, DROPOUT -> h = add(Op.NOISE, List.of(h), width,
                            prefix + "." + i + " " + l.describe(), List.of(), null, 0f, 0f, l);
                    case SPARSITY -> penalties.add(add(Op.SPARSITY_KL, List.of(h), 1, prefix + "." + i + " " + l.describe(),
                            List.of(), null, 0f, 0f, l));
                    case ACTIVITY_L1 -> penalties.add(add(Op.ACTIVITY_L1, List.of(h), 1, prefix + "." + i + " " + l.describe(),
                            List.of(), null, 0f, 0f, l));
                    case BATCH_NORM -> {
                        String p = prefix + "." + i;
                        List<String> ps = List.of(
                                param(p + ".weight", width, 1, ParamSpec.Init.ONE, width, width, ParamSpec.Role.VECTOR),
                                param(p + ".bias", width, 1, ParamSpec.Init.ZERO, width, width, ParamSpec.Role.VECTOR),
                                param(p + ".running_mean", width, 1, ParamSpec.Init.ZERO, width, width, ParamSpec.Role.STATE),
                                param(p + ".running_var", width, 1, ParamSpec.Init.ONE, width, width, ParamSpec.Role.STATE));
                        h = add(Op.BATCH_NORM, List.of(h), width, p + " " + l.describe(), ps, null, 0f, 0f, l);
                    }
                }
                if (prefix.equals("encoder")) {
                    encoderOutputs.add(h);
                }
            }
            return new int[] {h, width};
        }
    }

    /** How many noise or dropout layers open the list (they corrupt a conditional model's input before the join). */
    static int leadingNoiseLayers(List<LayerSpec> layers) {
        int n = 0;
        while (n < layers.size() && layers.get(n).kind().isNoise()) {
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
        int x = g.add(Op.INPUT, List.of(), d, "input", List.of(), null, 0f, 0f);
        int cond = cd > 0 ? g.add(Op.INPUT, List.of(), cd, "condition", List.of(), null, 0f, 0f) : -1;
        // Input corruption (the noise layers before anything else) corrupts the input, never the condition.
        int lead = cd > 0 ? leadingNoiseLayers(spec.encoder()) : 0;
        int corrupted = g.layers(x, d, spec.encoder(), "encoder", 0, lead)[0];
        int encIn = cd > 0 ? g.add(Op.CONCAT, List.of(corrupted, cond), d + cd, "input joined with condition", List.of(), null, 0f, 0f)
                : x;
        int[] enc = g.layers(encIn, d + cd, spec.encoder(), "encoder", lead, spec.encoder().size());
        int h = enc[0], hw = enc[1];
        LatentSpec lat = spec.latent();
        int zd = lat.dim();
        int mu = -1, logvar = -1, code = -1, z, kl = -1;
        if (lat.kind() == LatentSpec.Kind.GAUSSIAN) {
            mu = g.dense(h, hw, zd, "fc_mu", null);
            logvar = g.dense(h, hw, zd, "fc_logvar", null);
            if (lat.clampsLogVariance()) {
                logvar = g.add(Op.CLAMP, List.of(logvar), zd, "fc_logvar clamp(" + lat.logvarMin() + ", " + lat.logvarMax() + ")",
                        List.of(), null, 0f, 0f);
            }
            z = g.add(Op.REPARAMETERIZE, List.of(mu, logvar), zd, "z", List.of(), null, 0f, 0f);
            kl = g.add(Op.KL_STANDARD_NORMAL, List.of(mu, logvar), 1, "kl", List.of(), null, 0f, 0f);
        } else {
            Activation act = lat.activation();
            code = g.dense(h, hw, zd, "latent", act == Activation.IDENTITY ? null : act);
            if (act != Activation.IDENTITY) {
                code = g.add(Op.ACTIVATION, List.of(code), zd, "latent " + act.name().toLowerCase(java.util.Locale.ROOT),
                        List.of(), act, 0f, 0f);
            }
            if (lat.contractive() > 0f) {
                g.penalties.add(g.add(Op.CONTRACTIVE, List.of(code), 1, "latent contractive(" + lat.contractive() + ")",
                        List.of("latent.weight"), act, 0f, 0f));
            }
            z = code;
        }
        int decoderStart = g.nodes.size();
        int decIn = cd > 0 ? g.add(Op.CONCAT, List.of(z, cond), zd + cd, "z joined with condition", List.of(), null, 0f, 0f) : z;
        int[] dec = g.layers(decIn, zd + cd, spec.decoder(), "decoder");
        int out = dec[0];
        if (dec[1] != d) {
            throw new IllegalArgumentException("decoder output has " + dec[1] + " features but the input has " + d
                    + " (make the decoder's last dense layer dense(" + d + "))");
        }
        LikelihoodSpec lik = spec.likelihood();
        int recon = switch (lik.kind()) {
            case BERNOULLI -> g.add(Op.BERNOULLI_NLL, List.of(out, x), 1, "reconstruction", List.of(), null, 0f, 0f);
            case GAUSSIAN_FIXED -> g.add(Op.GAUSSIAN_NLL, List.of(out, x), 1, "reconstruction", List.of(), null, 0f, lik.variance());
            case GAUSSIAN_LEARNED -> g.add(Op.GAUSSIAN_NLL, List.of(out, x), 1, "reconstruction",
                    List.of(g.param("decoder_logvar", d, 1, ParamSpec.Init.ZERO, d, d)), null, 0f, 0f);
            case GAUSSIAN_LEARNED_GLOBAL -> g.add(Op.GAUSSIAN_NLL, List.of(out, x), 1, "reconstruction",
                    List.of(g.param("decoder_logvar", 1, 1, ParamSpec.Init.ZERO, d, d)), null, 0f, 0f);
            case HUBER -> g.add(Op.HUBER_LOSS, List.of(out, x), 1, "reconstruction", List.of(), null, 0f, lik.delta());
        };
        int trainable = g.placeState();
        Graph graph = new Graph(spec, g.nodes, g.params, g.offset, trainable, x, mu, logvar, code, z, out, recon, kl, decoderStart,
                cond, g.penalties, g.encoderOutputs);
        graph.infer();
        return graph;
    }

    /**
     * Shape inference and checking: every node's width follows from its inputs and parameters.
     * Throws with the layer's name and both shapes when they disagree.
     */
    public void infer() {
        for (Node n : nodes) {
            int expected = switch (n.op()) {
                case INPUT -> n.id() == condition ? spec.conditionDim() : spec.inputDim();
                case CONCAT -> width(n.inputs().get(0)) + width(n.inputs().get(1));
                case NOISE, CLAMP -> width(n.inputs().get(0));
                case BATCH_NORM -> {
                    int in = width(n.inputs().get(0));
                    for (String p : n.params()) {
                        if (param(p).rows() != in) {
                            throw new IllegalArgumentException(n.name() + ": " + p + " has " + param(p).rows() + " entries but its input has "
                                    + in + " features");
                        }
                    }
                    yield in;
                }
                case SPARSITY_KL, ACTIVITY_L1 -> 1;
                case CONTRACTIVE -> {
                    ParamSpec w = param(n.params().get(0));
                    if (w.rows() != width(n.inputs().get(0))) {
                        throw new IllegalArgumentException(n.name() + ": weight " + w.name() + " has " + w.rows()
                                + " rows but the code has " + width(n.inputs().get(0)) + " units");
                    }
                    yield 1;
                }
                case MATMUL, DENSE -> {
                    ParamSpec w = param(n.params().get(0));
                    int in = width(n.inputs().get(0));
                    if (w.cols() != in) {
                        throw new IllegalArgumentException(n.name() + ": weight " + w.name() + " takes " + w.cols()
                                + " features but its input has " + in);
                    }
                    if (n.op() == Op.DENSE) {
                        ParamSpec b = param(n.params().get(1));
                        if (b.rows() != w.rows()) {
                            throw new IllegalArgumentException(n.name() + ": bias has " + b.rows() + " entries but the layer has " + w.rows() + " outputs");
                        }
                    }
                    yield w.rows();
                }
                case BIAS_ADD -> {
                    ParamSpec b = param(n.params().get(0));
                    int in = width(n.inputs().get(0));
                    if (b.rows() != in) {
                        throw new IllegalArgumentException(n.name() + ": bias has " + b.rows() + " entries but its input has " + in + " features");
                    }
                    yield in;
                }
                case ACTIVATION -> width(n.inputs().get(0));
                case REPARAMETERIZE, KL_STANDARD_NORMAL -> {
                    int a = width(n.inputs().get(0)), b = width(n.inputs().get(1));
                    if (a != b) {
                        throw new IllegalArgumentException(n.name() + ": mean has " + a + " dimensions but log-variance has " + b);
                    }
                    yield n.op() == Op.REPARAMETERIZE ? a : 1;
                }
                case BERNOULLI_NLL, GAUSSIAN_NLL, HUBER_LOSS -> {
                    int a = width(n.inputs().get(0)), b = width(n.inputs().get(1));
                    if (a != b) {
                        throw new IllegalArgumentException("decoder output has " + a + " features but the input has " + b);
                    }
                    if (!n.params().isEmpty() && param(n.params().get(0)).rows() != a && param(n.params().get(0)).rows() != 1) {
                        throw new IllegalArgumentException(n.name() + ": learned variance has " + param(n.params().get(0)).rows()
                                + " entries but the output has " + a + " features");
                    }
                    yield 1;
                }
            };
            if (expected != n.width()) {
                throw new IllegalArgumentException(n.name() + ": output has " + n.width() + " features but its op gives " + expected);
            }
        }
    }

    private int width(int id) {
        return nodes.get(id).width();
    }

    /**
     * The fused graph: each MATMUL whose only consumer is a BIAS_ADD, and that BIAS_ADD's only
     * consumer if it is an ACTIVATION, become one DENSE node (identity activation if none).
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
            if (n.op() == Op.MATMUL && consumers[i] == 1 && i + 1 < nodes.size()
                    && nodes.get(i + 1).op() == Op.BIAS_ADD && nodes.get(i + 1).inputs().get(0) == i) {
                Node bias = nodes.get(i + 1);
                int last = i + 1;
                Activation act = Activation.IDENTITY;
                float ap = 0f;
                String name = n.name();
                if (consumers[i + 1] == 1 && i + 2 < nodes.size() && nodes.get(i + 2).op() == Op.ACTIVATION
                        && nodes.get(i + 2).inputs().get(0) == i + 1) {
                    act = nodes.get(i + 2).activation();
                    ap = nodes.get(i + 2).activationParam();
                    last = i + 2;
                }
                int id = out.size();
                out.add(new Node(id, Op.DENSE, List.of(remap.get(n.inputs().get(0))), n.width(), name,
                        List.of(n.params().get(0), bias.params().get(0)), act, ap, 0f, null));
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
            out.add(new Node(id, n.op(), in, n.width(), n.name(), n.params(), n.activation(), n.activationParam(), n.variance(), n.layer()));
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
