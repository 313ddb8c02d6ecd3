package org.latent4j.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.LatentSpec;
import org.latent4j.dsl.LayerSpec;
import org.latent4j.dsl.LikelihoodSpec;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.Rbm;
import org.latent4j.runtime.Executor;

/**
 * Stacked autoencoders: greedy layer-wise pretraining (Bengio et al. 2007; Vincent et al. 2010)
 * of a deep model whose decoder mirrors its encoder, then end-to-end fine-tuning of the whole.
 *
 * <p>The encoder's layers fall into blocks, each starting at a dense layer (with what follows
 * it: activation, batch normalization, dropout, penalties); layers before the first dense
 * (input noise, say) stay with the first stage. With k blocks of widths h1..hk the decoder must
 * have k + 1 blocks of widths hk, ..., h1 and the input's. Stage i (1..k) is an autoencoder of
 * its own, written in the DSL's spec and trained by the same {@link Trainer}: the input of block
 * i (the data for i = 1; for i &gt; 1 the previous blocks' outputs computed by the model's own
 * graph at inference) to hi by block i, back by its mirror block. The last stage trains the
 * model's latent layer and the decoder's first block on the outputs of block k. Stage 1 keeps
 * the model's likelihood; the inner stages reconstruct real-valued features, under a Gaussian
 * of variance 1 (squared error). Each stage's trained tensors are copied into the model's arena
 * under the model's names; {@link #fit} then fine-tunes the whole model from there.
 */
public final class StackedPretraining {
    private StackedPretraining() {}

    /** One stage: what it pretrains (in the model's layer names), its spec, and after training its history. */
    public record Stage(String description, ModelSpec spec, List<EpochStats> history) {}

    /** The pretrained arena of the whole model (untouched tensors keep their seeded initial values) and the stages. */
    public record Pretrained(float[] params, List<Stage> stages) {}

    /** The fine-tuned model and the stages that led to its starting point. */
    public record Result(Trainer.Result fineTuned, List<Stage> stages) {}

    /** A stage's spec and which model tensor prefix each of its layer prefixes stands for. */
    private record Plan(String description, ModelSpec spec, Map<String, String> names, int inputNode) {}

    /** Pretrains layer by layer for {@code pretrain.epochs()} epochs each, then trains the whole model with {@code fineTune}. */
    public static Result fit(ModelSpec spec, Dataset train, Dataset validation, TrainingConfig pretrain, TrainingConfig fineTune,
                             TrainingListener listener) {
        Pretrained p = pretrain(spec, train, pretrain, listener);
        Trainer.Result r = Trainer.fit(spec, train, validation, fineTune, listener, null, null, p.params());
        return new Result(r, p.stages());
    }

    /** The stages of a spec (input width known or taken from {@code inputDim}), without training; errors say what does not fit. */
    public static List<Stage> stages(ModelSpec spec, int inputDim) {
        List<Stage> out = new ArrayList<>();
        for (Plan p : plans(spec.withInputDim(inputDim))) {
            out.add(new Stage(p.description(), p.spec(), List.of()));
        }
        return out;
    }

    /**
     * Trains each stage in turn ({@code cfg.epochs()} epochs each, seed + stage number, no early
     * stopping: a stage has no validation data) and returns the model's arena holding every
     * stage's weights.
     */
    public static Pretrained pretrain(ModelSpec spec, Dataset train, TrainingConfig cfg, TrainingListener listener) {
        ModelSpec full = spec.withInputDim(train.features());
        List<Plan> plans = plans(full);
        Graph g = Graph.build(full).fuse();
        float[] params = Trainer.initialParams(g, cfg.seed(), cfg.weightInit());
        List<Stage> stages = new ArrayList<>();
        for (int i = 0; i < plans.size(); i++) {
            Plan p = plans.get(i);
            Dataset data = p.inputNode() < 0 ? train : features(g, params, train, p.inputNode(), cfg);
            Trainer.Result r = Trainer.fit(p.spec(), data, null, cfg.withSeed(cfg.seed() + i + 1).withEarlyStopping(null), listener);
            copy(r.model().graph(), r.model().parameters(), g, params, p.names());
            stages.add(new Stage(p.description(), p.spec(), r.history()));
        }
        return new Pretrained(params, stages);
    }

    /** The rows of node {@code node}'s output at inference over the whole data set, as a data set. */
    private static Dataset features(Graph g, float[] params, Dataset data, int node, TrainingConfig cfg) {
        int b = Math.min(cfg.batchSize(), data.rows()), d = data.features(), w = g.node(node).width();
        float[] out = new float[data.rows() * w];
        try (Parallelism par = Parallelism.of(cfg.threads())) {
            Executor ex = new Executor(Planner.forward(g, 0, node), par, b);
            for (int start = 0; start < data.rows(); start += b) {
                int n = Math.min(b, data.rows() - start);
                ex.load(g.input, data.x(), start * d, n);
                ex.run(params, null, n, cfg.seed(), 0, 1f);
                System.arraycopy(ex.value(node), 0, out, start * w, n * w);
            }
        }
        return new Dataset(out, data.rows(), w, null, data.source() + " through " + g.node(node).name());
    }

    /** Copies each stage tensor to the model tensor it stands for. */
    private static void copy(Graph stage, float[] from, Graph model, float[] to, Map<String, String> names) {
        for (ParamSpec p : stage.params().values()) {
            String name = p.name();
            // The layer's prefix: "encoder.3" of "encoder.3.weight", "fc_mu" of "fc_mu.bias", "decoder_logvar" of itself.
            int cut = name.startsWith("encoder.") || name.startsWith("decoder.") ? name.indexOf('.', "encoder.".length()) : name.indexOf('.');
            String prefix = cut < 0 ? name : name.substring(0, cut);
            String target = names.get(prefix);
            if (target == null) {
                throw new IllegalStateException("stage tensor " + name + " has no place in the model");
            }
            ParamSpec q = model.param(target + name.substring(prefix.length()));
            if (q.size() != p.size()) {
                throw new IllegalStateException("stage tensor " + name + " has " + p.size() + " values but " + q.name() + " " + q.size());
            }
            System.arraycopy(from, p.offset(), to, q.offset(), p.size());
        }
    }

    /** Index of the first layer of each block (a dense layer); blocks end where the next begins. */
    private static List<Integer> blockStarts(List<LayerSpec> layers) {
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof LayerSpec.Dense) {
                starts.add(i);
            }
        }
        return starts;
    }

    private static List<Plan> plans(ModelSpec spec) {
        if (spec.isConditional()) {
            throw new IllegalArgumentException("layer-wise pretraining of a conditional model is not supported; train it end to end");
        }
        List<LayerSpec> enc = spec.encoder(), dec = spec.decoder();
        for (List<LayerSpec> part : List.of(enc, dec)) {
            for (LayerSpec l : part) {
                if (l.hasWeights() && !(l instanceof LayerSpec.Dense) || l instanceof LayerSpec.Flatten || l instanceof LayerSpec.Reshape) {
                    throw new IllegalArgumentException("layer-wise pretraining pairs dense layers only, not " + l.describe()
                            + "; train a convolutional model end to end");
                }
            }
        }
        List<Integer> es = blockStarts(enc), ds = blockStarts(dec);
        int k = es.size();
        if (k == 0) {
            throw new IllegalArgumentException("layer-wise pretraining needs hidden layers: the encoder has no dense layer before the latent one");
        }
        int[] h = new int[k + 1];
        h[0] = spec.inputDim();
        for (int i = 1; i <= k; i++) {
            h[i] = ((LayerSpec.Dense) enc.get(es.get(i - 1))).units();
        }
        StringBuilder want = new StringBuilder();
        for (int i = k; i >= 0; i--) {
            want.append(h[i]).append(i > 0 ? ", " : "");
        }
        List<Integer> got = new ArrayList<>();
        for (int i : ds) {
            got.add(((LayerSpec.Dense) dec.get(i)).units());
        }
        boolean mirrored = ds.size() == k + 1;
        for (int j = 0; mirrored && j < k + 1; j++) {
            mirrored = got.get(j) == h[k - j];
        }
        if (!mirrored) {
            throw new IllegalArgumentException("layer-wise pretraining pairs each encoder layer with its mirror: an encoder of dense widths "
                    + java.util.Arrays.toString(java.util.Arrays.copyOfRange(h, 1, k + 1)) + " needs a decoder of dense widths ["
                    + want + "], not " + got);
        }
        LikelihoodSpec features = new LikelihoodSpec.GaussianFixed(1f);
        List<Plan> plans = new ArrayList<>();
        Graph g = Graph.build(spec).fuse();
        for (int i = 1; i <= k; i++) {
            int s = es.get(i - 1), e = i < k ? es.get(i) : enc.size();
            int mirror = ds.get(k + 1 - i), mirrorEnd = k + 1 - i + 1 < ds.size() ? ds.get(k + 2 - i) : dec.size();
            Map<String, String> names = new HashMap<>();
            List<LayerSpec> stageEnc = i == 1 ? enc.subList(0, s) : List.of();
            for (int j = 0; j < stageEnc.size(); j++) {
                names.put("encoder." + j, "encoder." + j);
            }
            names.put("latent", "encoder." + s);
            List<LayerSpec> stageDec = new ArrayList<>(enc.subList(s + 1, e));
            for (int j = 0; j < stageDec.size(); j++) {
                names.put("decoder." + j, "encoder." + (s + 1 + j));
            }
            for (int j = mirror; j < mirrorEnd; j++) {
                names.put("decoder." + stageDec.size(), "decoder." + j);
                stageDec.add(dec.get(j));
            }
            names.put("decoder_logvar", "decoder_logvar");
            ModelSpec st = new ModelSpec(h[i - 1], stageEnc, LatentSpec.deterministic(h[i]), stageDec,
                    i == 1 ? spec.likelihood() : features, 0);
            String what = "encoder." + s + "-" + (e - 1) + " with decoder." + mirror + "-" + (mirrorEnd - 1)
                    + " (" + h[i - 1] + " -> " + h[i] + " -> " + h[i - 1] + ")";
            plans.add(new Plan(what, st, names, i == 1 ? -1 : g.encoderOutputs.get(s - 1)));
        }
        int top = ds.get(1);
        Map<String, String> names = new HashMap<>();
        for (String n : List.of("latent", "fc_mu", "fc_logvar")) {
            names.put(n, n);
        }
        for (int j = 0; j < top; j++) {
            names.put("decoder." + j, "decoder." + j);
        }
        ModelSpec st = new ModelSpec(h[k], List.of(), spec.latent(), dec.subList(0, top), features, 0);
        plans.add(new Plan("latent with decoder.0-" + (top - 1) + " (" + h[k] + " -> " + spec.latent().dim() + " -> " + h[k] + ")",
                st, names, g.encoderOutputs.get(enc.size() - 1)));
        return plans;
    }

    // ------------------------------------------------------------------ RBM pretraining

    /**
     * Hinton and Salakhutdinov's (2006) pretraining: a stack of RBMs trained greedily by
     * {@link RbmTrainer}, each on the hidden probabilities of the one below (the first on the
     * data), then unrolled into the autoencoder: RBM i (widths h_{i-1} -> h_i) gives the encoder's
     * block i its weights W and hidden biases c, and the mirror decoder block W^T and the visible
     * biases b; the top RBM, from the last encoder block to the latent code, has linear
     * (Gaussian) hidden units for an identity latent and binary ones for a sigmoid latent, and
     * fills the latent layer and the decoder's first block. Each encoder and inner decoder block
     * must be dense then sigmoid (logistic units, as the RBMs' conditionals are), the latent
     * deterministic. The RBMs of binary hidden units train by {@code cfg}, the linear top one at
     * {@code cfg}'s learning rate / 100 (0.1 and 0.001 in the paper's code); seed + stage number.
     * Returns the model's arena (tensors not named here keep their seeded initial values) and
     * one stage per RBM, its history as {@link EpochStats} whose reconstruction column holds the
     * RBM's squared reconstruction error (the free energies are in {@code onEpoch}'s records).
     */
    public static Pretrained pretrainRbm(ModelSpec spec, Dataset train, RbmTrainer.Config cfg,
                                         java.util.function.BiConsumer<Integer, RbmTrainer.Epoch> onEpoch) {
        ModelSpec full = spec.withInputDim(train.features());
        plans(full);   // the same mirror checks as autoencoder pretraining
        if (!(full.latent() instanceof LatentSpec.Deterministic code)) {
            throw new IllegalArgumentException("RBM pretraining unrolls into a deterministic autoencoder (Model...latent(30)), not a "
                    + full.latent().kindName() + " latent");
        }
        org.latent4j.kernel.Activation top = code.activation();
        if (top != org.latent4j.kernel.Activation.IDENTITY && top != org.latent4j.kernel.Activation.SIGMOID) {
            throw new IllegalArgumentException("RBM pretraining needs a linear or sigmoid latent layer (an RBM's hidden units), not "
                    + top.name().toLowerCase(java.util.Locale.ROOT));
        }
        List<LayerSpec> enc = full.encoder(), dec = full.decoder();
        List<Integer> es = blockStarts(enc), ds = blockStarts(dec);
        for (int i = 0; i < es.size(); i++) {
            requireSigmoid(enc, es.get(i), "encoder");
        }
        for (int j = 0; j + 1 < ds.size(); j++) {
            requireSigmoid(dec, ds.get(j), "decoder");
        }
        Graph g = Graph.build(full).fuse();
        float[] params = Trainer.initialParams(g, cfg.seed(), TrainingConfig.WeightInit.BY_ACTIVATION);
        int k = es.size();
        List<Stage> stages = new ArrayList<>();
        Dataset data = train;
        for (int i = 1; i <= k + 1; i++) {
            boolean last = i == k + 1;
            int hidden = last ? full.latent().dim() : ((LayerSpec.Dense) enc.get(es.get(i - 1))).units();
            Rbm.Kind kind = last && top == org.latent4j.kernel.Activation.IDENTITY ? Rbm.Kind.BERNOULLI_GAUSSIAN : Rbm.Kind.BERNOULLI_BERNOULLI;
            RbmTrainer.Config c = cfg.withSeed(cfg.seed() + i);
            if (kind == Rbm.Kind.BERNOULLI_GAUSSIAN) {
                c = c.withLearningRate(cfg.learningRate() / 100);
            }
            int stage = i;
            RbmTrainer.Result r = RbmTrainer.fit(kind, hidden, data, null, c, onEpoch == null ? null : e -> onEpoch.accept(stage, e));
            Rbm rbm = r.rbm();
            String up = last ? "latent" : "encoder." + es.get(i - 1);
            String down = "decoder." + ds.get(k + 1 - i);
            int v = rbm.visible(), h = rbm.hidden();
            float[] p = rbm.parameters();
            ParamSpec uw = g.param(up + ".weight"), ub = g.param(up + ".bias"), dw = g.param(down + ".weight"), db = g.param(down + ".bias");
            if (uw.size() != v * h || dw.size() != v * h || ub.size() != h || db.size() != v) {
                throw new IllegalStateException("RBM " + i + " (" + v + " x " + h + ") does not fit " + up + " and " + down);
            }
            System.arraycopy(p, 0, params, uw.offset(), v * h);
            System.arraycopy(p, rbm.hiddenBias(), params, ub.offset(), h);
            for (int a = 0; a < h; a++) {
                for (int b = 0; b < v; b++) {
                    params[dw.offset() + b * h + a] = p[a * v + b];
                }
            }
            System.arraycopy(p, rbm.visibleBias(), params, db.offset(), v);
            List<EpochStats> hist = new ArrayList<>();
            for (RbmTrainer.Epoch e : r.history()) {
                hist.add(new EpochStats(e.epoch(), e.reconstructionError(), 0, e.reconstructionError(), Double.NaN, Double.NaN, Double.NaN,
                        e.seconds(), data.rows() / e.seconds(), 0));
            }
            String what = (kind == Rbm.Kind.BERNOULLI_GAUSSIAN ? "Gaussian-hidden" : "binary") + " RBM " + v + " -> " + h + " into " + up
                    + " and " + down;
            stages.add(new Stage(what, null, hist));
            if (!last) {
                data = RbmTrainer.hiddenFeatures(rbm, data, cfg.threads());
            }
        }
        return new Pretrained(params, stages);
    }

    /** The layer after a block's dense layer must be a sigmoid activation. */
    private static void requireSigmoid(List<LayerSpec> layers, int dense, String part) {
        boolean ok = dense + 1 < layers.size() && layers.get(dense + 1) instanceof LayerSpec.ActivationLayer a
                && a.activation() == org.latent4j.kernel.Activation.SIGMOID;
        if (!ok) {
            throw new IllegalArgumentException("RBM pretraining needs logistic units: " + part + "." + dense + " " + layers.get(dense).describe()
                    + " must be followed by sigmoid(), not " + (dense + 1 < layers.size() ? layers.get(dense + 1).describe() : "nothing"));
        }
    }
}
