package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.dsl.PixelCnnSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.PixelCnnKernels;
import org.latent4j.runtime.Executor;

/**
 * An autoregressive prior over the code grid of a discrete latent: a masked-convolution PixelCNN
 * ({@link PixelCnnSpec}, built in the engine as {@link Graph#pixelCnn}), trained by Adam
 * ({@code org.latent4j.train.PixelCnnTrainer}) on the training set's code indices to maximize the exact log-likelihood
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

    /** Index rows [from, from + n) as the graph's float input, each checked (a one-line error naming the row and position). */
    public float[] grid(int[][] index, int from, int n) {
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
