package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.latent4j.dsl.PixelCnnSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.PixelCnnKernels;
import org.latent4j.runtime.Executor;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;

/**
 * An autoregressive prior over the code grid of a discrete latent: a masked-convolution PixelCNN
 * ({@link PixelCnnSpec}, built in the engine as {@link Graph#pixelCnn}), trained by Adam on the
 * training set's code indices to maximize the exact log-likelihood
 * log p(k) = sum over positions p (raster order) of log p(k_p | k_1 .. k_{p-1}).
 * {@link #bits} scores a grid exactly (one forward pass: the masks make the logits at p depend on
 * the positions before p only), {@link #sample} draws grids in raster order, one forward pass per
 * position, the draw of row r at position p from uniform Philox(seed, 0, r * positions + p) (as
 * {@link CodePrior#sample}): same seed, same grids, for any thread count.
 *
 * <p>In a model file the prior's tensors sit beside the model's ({@code prior.*}, PyTorch names and
 * shapes) with its spec as JSON under the metadata key {@link #SPEC_KEY}.
 */
public final class PixelCnnPrior {
    /** Metadata key of the prior's spec (JSON) in a model file. */
    public static final String SPEC_KEY = "latent4j.prior.pixelcnn";
    /** Metadata key of the figures of its training (JSON: epochs, train bits per image of each epoch). */
    public static final String TRAINING_KEY = "latent4j.prior.training";

    /** How a prior is trained: epochs over the index rows, batch size, Adam's learning rate, seed (initialization and shuffling). */
    public record FitConfig(int epochs, int batch, float learningRate, long seed) {
        public FitConfig {
            if (epochs < 1 || batch < 1 || !(learningRate > 0f) || !Float.isFinite(learningRate)) {
                throw new IllegalArgumentException("PixelCNN prior training needs epochs >= 1, batch >= 1 and a positive learning rate, got "
                        + epochs + ", " + batch + ", " + learningRate);
            }
        }

        public static FitConfig defaults() {
            return new FitConfig(10, 64, 1e-3f, 42);
        }
    }

    private final PixelCnnSpec spec;
    private final Graph g;
    private final float[] params;

    private PixelCnnPrior(PixelCnnSpec spec, float[] params) {
        this.spec = spec;
        this.g = Graph.pixelCnn(spec);
        if (params.length != g.paramCount()) {
            throw new IllegalArgumentException("a PixelCNN prior of " + spec.toJson() + " has " + g.paramCount() + " parameters, got " + params.length);
        }
        this.params = params;
    }

    /** A prior with these parameters (the arena of {@link Graph#pixelCnn}'s layout), for tests and loading. */
    public static PixelCnnPrior of(PixelCnnSpec spec, float[] params) {
        return new PixelCnnPrior(spec, params.clone());
    }

    /** A prior at its initial parameters (the masked taps zero). */
    public static PixelCnnPrior initial(PixelCnnSpec spec, long seed) {
        Graph g = Graph.pixelCnn(spec);
        float[] p = Trainer.initialParams(g, seed);
        for (Node n : g.nodes()) {
            if (n.op() instanceof Ops.MaskedConv mc) {
                PixelCnnKernels.mask(p, g.param(n.params().get(0)).offset(), mc.geometry().outChannels(), mc.geometry().inChannels(),
                        mc.geometry().kernelHeight(), mc.typeA());
            }
        }
        return new PixelCnnPrior(spec, p);
    }

    public PixelCnnSpec spec() {
        return spec;
    }

    public Graph graph() {
        return g;
    }

    /** The parameter arena (read it, do not change it). */
    public float[] parameters() {
        return params;
    }

    public int positions() {
        return spec.positions();
    }

    /** Index rows as the graph's float input, each checked (a one-line error naming the row and position). */
    private float[] grid(int[][] index, int from, int n) {
        int pos = positions();
        float[] x = new float[n * pos];
        for (int r = 0; r < n; r++) {
            int[] row = index[from + r];
            if (row == null || row.length != pos) {
                throw new IllegalArgumentException("index row " + (from + r) + " has " + (row == null ? 0 : row.length)
                        + " indices but the prior's grid has " + pos + " positions");
            }
            for (int p = 0; p < pos; p++) {
                if (row[p] < 0 || row[p] >= spec.codes()) {
                    throw new IllegalArgumentException("index row " + (from + r) + ", position " + p + ": code " + row[p] + " is not in 0.."
                            + (spec.codes() - 1));
                }
                x[r * pos + p] = row[p];
            }
        }
        return x;
    }

    /**
     * Trains a prior on index rows (each {@code spec.positions()} indices in raster order) with Adam;
     * {@code log} gets one line per epoch (the mean bits per grid of the epoch's batches). Rows are
     * shuffled each epoch by Philox(seed, epoch); the same arguments give the same bits for any thread count.
     */
    public static PixelCnnPrior fit(int[][] index, PixelCnnSpec spec, FitConfig cfg, Parallelism par, Consumer<String> log) {
        if (index.length == 0) {
            throw new IllegalArgumentException("a PixelCNN prior needs at least one index row");
        }
        PixelCnnPrior prior = initial(spec, cfg.seed());
        float[] all = prior.grid(index, 0, index.length);
        Graph g = prior.g;
        int n = index.length, pos = spec.positions(), batch = Math.min(cfg.batch(), n);
        Executor ex = new Executor(Planner.training(g), par, batch);
        float[] grads = new float[g.paramCount()];
        org.latent4j.train.Optimizer opt = new org.latent4j.train.Optimizer(OptimizerSpec.adam(cfg.learningRate()), g.trainableCount(), par);
        int[] order = new int[n];
        float[] u = new float[n];
        float[] x = new float[batch * pos];
        for (int e = 0; e < cfg.epochs(); e++) {
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Philox.fillUniform(u, 0, n, cfg.seed(), 1L + e, 0);
            for (int i = n - 1; i > 0; i--) {
                int j = Math.min(i, (int) (u[i] * (i + 1)));
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            double sum = 0;
            long t0 = System.nanoTime();
            for (int b0 = 0; b0 < n; b0 += batch) {
                int b = Math.min(batch, n - b0);
                for (int r = 0; r < b; r++) {
                    System.arraycopy(all, order[b0 + r] * pos, x, r * pos, pos);
                }
                ex.load(g.input, x, 0, b);
                ex.run(prior.params, grads, b, cfg.seed(), e, 1f);
                float[] loss = ex.value(g.recon);
                for (int r = 0; r < b; r++) {
                    sum += loss[r];
                }
                opt.step(prior.params, grads, cfg.learningRate());
            }
            double bits = sum / n / Math.log(2);
            if (!Double.isFinite(bits)) {
                throw new IllegalStateException("PixelCNN prior training diverged in epoch " + (e + 1) + " (loss " + bits + ")");
            }
            if (log != null) {
                log.accept(String.format(java.util.Locale.ROOT, "prior epoch %d/%d: %.2f bits per grid (train, %d grids, %.1f s)", e + 1,
                        cfg.epochs(), bits, n, (System.nanoTime() - t0) / 1e9));
            }
        }
        return prior;
    }

    /** The codes x positions logits of each row (rows of the input grid as floats), channels first, by one forward pass. */
    private float[] logits(Executor ex, float[] x, int n) {
        ex.load(g.input, x, 0, n);
        ex.run(params, null, n, 0, 0, 1f);
        return ex.value(g.output);
    }

    private Executor inference(Parallelism par, int batch) {
        return new Executor(Planner.forward(g, 0, g.output), par, Math.max(1, batch), true);
    }

    private static final int CHUNK = 256;

    /** -log2 p(row) of each row under the prior, exactly (the sum of the positions' conditionals, in double). */
    public double[] bits(int[][] index, Parallelism par) {
        int pos = positions(), codes = spec.codes();
        double[] out = new double[index.length];
        Executor ex = inference(par, Math.min(CHUNK, index.length));
        for (int r0 = 0; r0 < index.length; r0 += CHUNK) {
            int n = Math.min(CHUNK, index.length - r0);
            float[] x = grid(index, r0, n);
            float[] l = logits(ex, x, n);
            for (int r = 0; r < n; r++) {
                double s = 0;
                int o = r * codes * pos;
                for (int p = 0; p < pos; p++) {
                    s += PixelCnnKernels.logSumExp(l, o + p, pos, codes) - l[o + (int) x[r * pos + p] * pos + p];
                }
                out[r0 + r] = s / Math.log(2);
            }
        }
        return out;
    }

    /** -log2 p(row) of one row. */
    public double bits(int[] row) {
        return bits(new int[][] {row}, Parallelism.serial())[0];
    }

    /** The mean of {@link #bits} over the rows. */
    public double meanBits(int[][] index, Parallelism par) {
        double s = 0;
        for (double b : bits(index, par)) {
            s += b;
        }
        return s / Math.max(1, index.length);
    }

    /**
     * log p(k at position p | the row's indices before p) for every k: the softmax of the logits
     * at p of one forward pass on the row (the indices at p and after do not matter).
     */
    public double[] conditionalLogProbs(int[] row, int p) {
        int pos = positions(), codes = spec.codes();
        float[] l = logits(inference(Parallelism.serial(), 1), grid(new int[][] {row}, 0, 1), 1);
        double lse = PixelCnnKernels.logSumExp(l, p, pos, codes);
        double[] out = new double[codes];
        for (int k = 0; k < codes; k++) {
            out[k] = l[k * pos + p] - lse;
        }
        return out;
    }

    /** n grids drawn from the prior in raster order (see the class comment), on {@code par}'s threads. */
    public int[][] sample(int n, long seed, Parallelism par) {
        int pos = positions(), codes = spec.codes();
        int[][] out = new int[n][pos];
        if (n == 0) {
            return out;
        }
        Executor ex = inference(par, Math.min(CHUNK, n));
        float[] u = new float[pos];
        double[] prob = new double[codes];
        for (int r0 = 0; r0 < n; r0 += CHUNK) {
            int m = Math.min(CHUNK, n - r0);
            float[] x = new float[m * pos];
            for (int p = 0; p < pos; p++) {
                float[] l = logits(ex, x, m);
                for (int r = 0; r < m; r++) {
                    Philox.fillUniform(u, 0, pos, seed, 0, (long) (r0 + r) * pos);
                    int o = r * codes * pos + p;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < codes; k++) {
                        max = Math.max(max, l[o + k * pos]);
                    }
                    double z = 0;
                    for (int k = 0; k < codes; k++) {
                        prob[k] = Math.exp((double) l[o + k * pos] - max);
                        z += prob[k];
                    }
                    double target = u[p] * z, acc = 0;
                    int k = 0;
                    for (; k < codes - 1; k++) {
                        acc += prob[k];
                        if (target < acc) {
                            break;
                        }
                    }
                    out[r0 + r][p] = k;
                    x[r * pos + p] = k;
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ files

    /** The prior's tensors for a model file, PyTorch names and shapes ({@code prior.conv_in.weight} is (out, in, k, k)). */
    public List<SafeTensors.Entry> tensors() {
        List<SafeTensors.Entry> out = new ArrayList<>();
        for (ParamSpec p : g.params().values()) {
            out.add(new SafeTensors.Entry(p.name(), p.shape(), params, p.offset()));
        }
        return out;
    }

    /** The prior's metadata for a model file (its spec). */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(SPEC_KEY, spec.toJson());
        return m;
    }

    /** True when the tensor belongs to a prior ({@code prior.*}). */
    public static boolean isPriorTensor(String name) {
        return name.startsWith("prior.");
    }

    /**
     * The prior in the checked contents of a model file, or null when it holds none; every tensor
     * is checked against the spec in the metadata (a one-line error naming the file and tensor).
     */
    public static PixelCnnPrior from(SafeTensors.Contents c, Path file) throws IOException {
        String json = c.metadata().get(SPEC_KEY);
        if (json == null) {
            for (String name : c.tensors().keySet()) {
                if (isPriorTensor(name)) {
                    throw new IOException(file + ": tensor " + name + " belongs to a prior but the metadata has no " + SPEC_KEY);
                }
            }
            return null;
        }
        PixelCnnSpec spec;
        Graph g;
        try {
            spec = PixelCnnSpec.fromJson(json);
            g = Graph.pixelCnn(spec);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the prior's spec (metadata " + SPEC_KEY + ") is not valid: " + e.getMessage(), e);
        }
        for (ParamSpec p : g.params().values()) {
            SafeTensors.Entry e = c.tensors().get(p.name());
            if (e == null) {
                throw new IOException(file + ": tensor " + p.name() + " of the prior is missing");
            }
            if (!java.util.Arrays.equals(e.shape(), p.shape())) {
                throw new IOException(file + ": tensor " + p.name() + " has shape " + java.util.Arrays.toString(e.shape())
                        + " but the prior's spec needs " + java.util.Arrays.toString(p.shape()));
            }
        }
        for (String name : c.tensors().keySet()) {
            if (isPriorTensor(name) && !g.params().containsKey(name)) {
                throw new IOException(file + ": tensor " + name + " is not part of the prior's spec");
            }
        }
        float[] params = new float[g.paramCount()];
        for (ParamSpec p : g.params().values()) {
            SafeTensors.Entry e = c.tensors().get(p.name());
            System.arraycopy(e.data(), e.offset(), params, p.offset(), p.size());
        }
        return new PixelCnnPrior(spec, params);
    }

    /**
     * Writes {@code file} as the model file {@code model} with this prior in it (replacing any prior
     * it held): its other tensors and metadata unchanged, the prior's added; atomically.
     */
    public void writeInto(SafeTensors.Contents model, Path file, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> md = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : model.metadata().entrySet()) {
            if (!e.getKey().equals(SPEC_KEY) && !e.getKey().equals(TRAINING_KEY)) {
                md.put(e.getKey(), e.getValue());
            }
        }
        md.putAll(metadata());
        md.putAll(extraMetadata);
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (SafeTensors.Entry e : model.tensors().values()) {
            if (!isPriorTensor(e.name())) {
                entries.add(e);
            }
        }
        entries.addAll(tensors());
        SafeTensors.write(file, md, entries);
    }
}
