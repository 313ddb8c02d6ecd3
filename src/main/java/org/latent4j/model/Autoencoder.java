package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.dsl.LikelihoodSpec;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Plan;
import org.latent4j.graph.Planner;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.SpinTeam;
import org.latent4j.kernel.Shape;
import org.latent4j.kernel.Philox;
import org.latent4j.runtime.Executor;

/**
 * A trained autoencoder or VAE ready for use: encode, reconstruct, decode and sample on plain
 * {@code float[][]} (one row per sample). Safe to call from many threads at once: the weights
 * are read-only and each thread gets its own buffers. Save and load as one safetensors file.
 *
 * <pre>{@code
 * Autoencoder vae = Autoencoder.load(Path.of("model.safetensors"));
 * float[][] codes = vae.encode(images);          // latent means
 * float[][] again = vae.reconstruct(images);     // decoder means (pixel probabilities for Bernoulli)
 * float[][] fakes = vae.sample(16, 42);          // decoded draws from the prior
 * }</pre>
 */
public final class Autoencoder implements LatentModel {
    private final ModelSpec spec;
    private final Graph graph;
    private final float[] params;
    private final Plan encodePlan;
    private final Plan decodePlan;
    private final Scaling inputScaling;
    /** The rows' image shape when they are images (the spec's input shape, or one recorded for a flat model), else null. */
    private final Shape imageShape;
    private final ThreadLocal<Map<Plan, Executor>> executors = ThreadLocal.withInitial(LinkedHashMap::new);
    /** Threads one call may use (1: the calling thread only, the default) and whether batch-1 products read bfloat16 weights. */
    private final int threadsPerCall;
    private final boolean bf16Weights;
    /** Per calling thread, the helpers of its calls (one team for all plans, so no helper spins against another); null for 1 thread. */
    private final ThreadLocal<SpinTeam> teams;
    /** The GEMM workers of batches above one when threadsPerCall > 1, shared by the calling threads; made on first use. */
    private volatile Parallelism callPool;

    private Autoencoder(ModelSpec spec, float[] params) {
        this.spec = spec;
        this.graph = Graph.build(spec).fuse();
        if (params.length != graph.paramCount()) {
            throw new IllegalArgumentException("the model has " + graph.paramCount() + " parameters but " + params.length + " were given");
        }
        this.params = params;
        int encEnd = spec.isVariational() ? Math.max(graph.mu, graph.logvar) : graph.code;
        this.encodePlan = Planner.forward(graph, 0, encEnd);
        this.decodePlan = Planner.forward(graph, graph.decoderStart, graph.output);
        this.inputScaling = Scaling.none();
        this.imageShape = spec.inputShape();
        this.threadsPerCall = 1;
        this.bf16Weights = false;
        this.teams = null;
    }

    private Autoencoder(Autoencoder m, Scaling inputScaling, Shape imageShape) {
        this(m, inputScaling, imageShape, m.threadsPerCall, m.bf16Weights);
    }

    private Autoencoder(Autoencoder m, Scaling inputScaling, Shape imageShape, int threadsPerCall, boolean bf16Weights) {
        this.spec = m.spec;
        this.graph = m.graph;
        this.params = m.params;
        this.encodePlan = m.encodePlan;
        this.decodePlan = m.decodePlan;
        this.inputScaling = inputScaling;
        this.imageShape = imageShape;
        this.threadsPerCall = threadsPerCall;
        this.bf16Weights = bf16Weights;
        this.teams = threadsPerCall > 1 ? ThreadLocal.withInitial(() -> new SpinTeam(threadsPerCall)) : null;
    }

    /**
     * The same model (sharing its weights) spending up to {@code threads} threads on one call:
     * a batch of one splits each dense layer's outputs over the calling thread and threads - 1
     * helpers of that calling thread, which spin between calls for up to
     * {@link SpinTeam#SPIN_PROPERTY} microseconds (1 ms) and then sleep; larger batches split their
     * products over a pool of threads - 1 workers. Results are bitwise the same for any count.
     * Off (1) by default: a server that runs requests in parallel already keeps its cores busy.
     */
    public Autoencoder withThreadsPerCall(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads per call must be at least 1, got " + threads);
        }
        return new Autoencoder(this, inputScaling, imageShape, threads, bf16Weights);
    }

    /** Threads one call may use ({@link #withThreadsPerCall}; 1 unless set). */
    public int threadsPerCall() {
        return threadsPerCall;
    }

    /**
     * The same model (sharing its weights) whose batch-1 calls read the dense weights in
     * bfloat16 (a second, 16-bit copy packed once per calling thread: half the bytes of the float
     * weights per call, each weight rounded to 8 significant bits); calls of more rows keep the
     * float weights. Off by default. See benchmarks/RESULTS.md for its speed and accuracy.
     */
    public Autoencoder withBf16Weights(boolean on) {
        return new Autoencoder(this, inputScaling, imageShape, threadsPerCall, on);
    }

    /** Whether batch-1 calls read bfloat16 weights ({@link #withBf16Weights}). */
    public boolean bf16Weights() {
        return bf16Weights;
    }

    /**
     * The same model (sharing its weights) with its rows known to be images of this shape (for
     * pictures; a model on feature vectors trained on images records their shape this way, a
     * convolutional model has its input shape already). Saved in the model file.
     */
    public Autoencoder withImageShape(Shape shape) {
        if (shape != null && (!shape.spatial() || shape.size() != inputDim())) {
            throw new IllegalArgumentException("an image shape of " + shape.size() + " values does not fit a model of " + inputDim()
                    + " inputs");
        }
        if (spec.inputShape() != null && !spec.inputShape().equals(shape)) {
            throw new IllegalArgumentException("the model takes images of " + spec.inputShape() + ", not " + shape);
        }
        return new Autoencoder(this, inputScaling, shape);
    }

    /** The image shape of a row (channels x height x width), or null when the rows are not known to be images. */
    public Shape imageShape() {
        return imageShape;
    }

    /** Metadata key of the image shape of a model on feature vectors ("CxHxW"). */
    public static final String IMAGE_SHAPE_KEY = "latent4j.image_shape";

    /**
     * The same model (sharing its weights) for one trained on rows scaled by {@code s} (fitted on
     * the training rows): every method then takes and returns rows in the original units: inputs
     * are scaled before the encoder, decoded means and samples scaled back, -log p(x|z) is
     * scored in the scaled units the model was trained in. Saved in the model file beside the
     * weights. {@link Scaling#none()} gives the model without a scaling.
     */
    public Autoencoder withInputScaling(Scaling s) {
        if (s == null) {
            throw new IllegalArgumentException("give a scaling (Scaling.none() for none)");
        }
        if (!s.isNone() && s.features() != inputDim()) {
            throw new IllegalArgumentException("the scaling has " + s.features() + " features but the model takes " + inputDim());
        }
        return new Autoencoder(this, s, imageShape);
    }

    /** The input scaling this model applies ({@link Scaling#none()} unless it was trained on scaled rows). */
    public Scaling inputScaling() {
        return inputScaling;
    }

    /** A model from a spec with a known input width and its parameter arena (not copied). */
    public static Autoencoder of(ModelSpec spec, float[] params) {
        return new Autoencoder(spec, params);
    }

    @Override
    public String kind() {
        return switch (spec.latent()) {
            case org.latent4j.dsl.LatentSpec.VectorQuantized v -> "vq-vae";
            case org.latent4j.dsl.LatentSpec.FiniteScalar f -> "fsq";
            case org.latent4j.dsl.LatentSpec.Gaussian g -> "vae";
            case org.latent4j.dsl.LatentSpec.Deterministic d -> "autoencoder";
        };
    }

    @Override
    public String summary() {
        return spec.summary();
    }

    public ModelSpec spec() {
        return spec;
    }

    public Graph graph() {
        return graph;
    }

    /** The parameter arena (all weights in one array; see {@link #graph()} for the layout). */
    public float[] parameters() {
        return params;
    }

    @Override
    public int inputDim() {
        return spec.inputDim();
    }

    @Override
    public int latentDim() {
        return graph.node(graph.z).width(); // the latent's width (a discrete latent's whole code grid)
    }

    private Executor executor(Plan plan, int rows) {
        Map<Plan, Executor> m = executors.get();
        Executor ex = m.get(plan);
        if (ex == null || ex.maxBatch() < rows) {
            ex = new Executor(plan, threadsPerCall > 1 ? callPool() : Parallelism.serial(), Math.max(rows, ex == null ? 1 : ex.maxBatch() * 2),
                    true, teams == null ? null : teams.get(), bf16Weights);
            m.put(plan, ex);
        }
        return ex;
    }

    private Parallelism callPool() {
        Parallelism p = callPool;
        if (p == null) {
            synchronized (this) {
                p = callPool;
                if (p == null) {
                    p = Parallelism.of(threadsPerCall);
                    callPool = p;
                }
            }
        }
        return p;
    }

    /** Width of the condition vector of a conditional model (0: unconditional). */
    public int conditionDim() {
        return spec.conditionDim();
    }

    /** Latent means (VAE: mu; autoencoder: the code), one row per input row. */
    @Override
    public float[][] encode(float[][] x) {
        return encodePart(x, unconditional("encode"), false);
    }

    /** Latent means of a conditional model: row i of x with row i of the conditions. */
    public float[][] encode(float[][] x, float[][] conditions) {
        return encodePart(x, conditions(conditions, x == null ? 0 : x.length), false);
    }

    /** Latent log-variances of a VAE. */
    public float[][] encodeLogVariance(float[][] x) {
        if (!spec.isVariational()) {
            throw new IllegalStateException("a deterministic autoencoder has no latent variance");
        }
        return encodePart(x, unconditional("encodeLogVariance"), true);
    }

    /** Latent log-variances of a conditional VAE. */
    public float[][] encodeLogVariance(float[][] x, float[][] conditions) {
        if (!spec.isVariational()) {
            throw new IllegalStateException("a deterministic autoencoder has no latent variance");
        }
        return encodePart(x, conditions(conditions, x == null ? 0 : x.length), true);
    }

    /** Null for an unconditional model; a conditional one refuses the call without conditions. */
    private float[] unconditional(String method) {
        if (spec.isConditional()) {
            throw new IllegalStateException("this model is conditional (" + spec.conditionDim() + " condition values per row): call "
                    + method + " with the conditions");
        }
        return null;
    }

    /** The conditions flattened, one row of conditionDim values per data row. */
    private float[] conditions(float[][] c, int rows) {
        if (!spec.isConditional()) {
            throw new IllegalStateException("this model is not conditional: call the method without conditions");
        }
        if (c == null || c.length != rows) {
            throw new IllegalArgumentException("need one condition row per data row: " + rows + " rows but "
                    + (c == null ? 0 : c.length) + " conditions");
        }
        return flatten(c, spec.conditionDim(), "condition");
    }

    /** The latent means (VAE: mu; autoencoder: the code), or the log-variances; the rows go straight into the executor's input buffer. */
    private float[][] encodePart(float[][] x, float[] conditions, boolean logVariance) {
        checkRows(x, inputDim(), "input");
        float[][] in = inputScaling.apply(x);
        int n = x.length, d = inputDim(), w = latentDim(), cd = spec.conditionDim();
        int node = !spec.isVariational() ? graph.code : logVariance ? graph.logvar : graph.mu;
        float[][] out = new float[n][w];
        Executor ex = executor(encodePlan, Math.min(n, CHUNK));
        for (int from = 0; from < n; from += CHUNK) {
            int m = Math.min(CHUNK, n - from);
            float[] buffer = ex.value(graph.input);
            for (int r = 0; r < m; r++) {
                System.arraycopy(in[from + r], 0, buffer, r * d, d);
            }
            if (conditions != null) {
                ex.load(graph.condition, conditions, from * cd, m);
            }
            ex.run(params, null, m, 0, 0, 1f);
            float[] v = ex.value(node);
            for (int r = 0; r < m; r++) {
                System.arraycopy(v, r * w, out[from + r], 0, w);
            }
        }
        return out;
    }

    /**
     * Rows per forward pass of the batch methods (encode, decode, reconstruct, scores): a larger
     * call runs in chunks, so its activations stay bounded (a whole training set of a
     * convolutional model at once would need gigabytes); the rows do not interact at inference,
     * so the results are the same.
     */
    static final int CHUNK = 1024;

    /** Decoder means for latent codes z: Bernoulli probabilities or Gaussian means. */
    @Override
    public float[][] decode(float[][] z) {
        return decode(z, unconditional("decode"));
    }

    /** Decoder means of a conditional model: row i of z with row i of the conditions. */
    public float[][] decode(float[][] z, float[][] conditions) {
        return decode(z, conditions(conditions, z == null ? 0 : z.length));
    }

    private float[][] decode(float[][] z, float[] conditions) {
        checkRows(z, latentDim(), "latent code");
        int n = z.length;
        int d = inputDim();
        float[][] mean = new float[n][];
        boolean bernoulli = spec.likelihood() instanceof LikelihoodSpec.Bernoulli;
        for (int from = 0; from < n; from += CHUNK) {
            int m = Math.min(CHUNK, n - from);
            float[] out = decoderOutput(z, from, m, conditions);
            for (int i = 0; i < m; i++) {
                int r = from + i;
                if (bernoulli) {   // row by row into the caller's arrays: the same element-wise kernel, the same bits
                    mean[r] = new float[d];
                    org.latent4j.kernel.ScalarKernels.forwardInference(Activation.SIGMOID, 0f, mean[r], 0, out, i * d, d);
                } else {
                    mean[r] = Arrays.copyOfRange(out, i * d, (i + 1) * d);
                }
            }
        }
        return inputScaling.invert(mean);
    }

    /**
     * -log p(x_j | z) of every feature j of every row under the decoder's likelihood (Bernoulli
     * from the logits, stably; Gaussian with its fixed or learned variance), in double:
     * rows x features. Row i of x is scored against row i of z.
     */
    public double[][] featureNegLogLikelihood(float[][] x, float[][] z) {
        return featureNegLogLikelihood(x, z, unconditional("featureNegLogLikelihood"));
    }

    /** As above for a conditional model. */
    public double[][] featureNegLogLikelihood(float[][] x, float[][] z, float[][] conditions) {
        return featureNegLogLikelihood(x, z, conditions(conditions, x == null ? 0 : x.length));
    }

    private double[][] featureNegLogLikelihood(float[][] x, float[][] z, float[] conditions) {
        int d = inputDim();
        checkRows(x, d, "input");
        x = inputScaling.apply(x);
        if (z == null || z.length != x.length) {
            throw new IllegalArgumentException("need one latent row per input row, got " + (z == null ? 0 : z.length) + " for " + x.length);
        }
        checkRows(z, latentDim(), "latent code");
        int n = z.length;
        LikelihoodSpec lik = spec.likelihood();
        int logvarOffset = -1;
        int stride = lik instanceof LikelihoodSpec.GaussianLearned ? 1 : 0;
        if (lik instanceof LikelihoodSpec.GaussianLearned || lik instanceof LikelihoodSpec.GaussianLearnedGlobal) {
            logvarOffset = graph.param(graph.nodes().get(graph.recon).params().get(0)).offset();
        }
        double logTwoPi = Math.log(2 * Math.PI);
        double[][] nll = new double[n][d];
        float[] out = null;
        for (int r = 0; r < n; r++) {
            if (r % CHUNK == 0) {
                out = decoderOutput(z, r, Math.min(CHUNK, n - r), conditions);
            }
            int o0 = (r % CHUNK) * d;
            for (int j = 0; j < d; j++) {
                double o = out[o0 + j], t = x[r][j];
                nll[r][j] = switch (lik) {
                    case LikelihoodSpec.Bernoulli _ -> Math.max(o, 0) - o * t + Math.log1p(Math.exp(-Math.abs(o)));
                    case LikelihoodSpec.GaussianFixed g -> 0.5 * ((o - t) * (o - t) / g.variance() + Math.log(g.variance()) + logTwoPi);
                    case LikelihoodSpec.GaussianLearned _, LikelihoodSpec.GaussianLearnedGlobal _ -> {
                        double lv = params[logvarOffset + j * stride];
                        yield 0.5 * ((o - t) * (o - t) * Math.exp(-lv) + lv + logTwoPi);
                    }
                    case LikelihoodSpec.Huber h -> org.latent4j.kernel.LayerKernels.huber(o - t, h.delta());
                };
            }
        }
        return nll;
    }

    /**
     * Runs the decoder on latent rows [from, from + n) of z (n <= CHUNK): its raw output (Bernoulli logits or Gaussian means), n x
     * inputDim, in this thread's executor buffer (read it before the next call on this thread).
     */
    private float[] decoderOutput(float[][] z, int from, int n, float[] conditions) {
        int w = latentDim();
        Executor ex = executor(decodePlan, n);
        float[] buffer = ex.value(graph.z);
        for (int r = 0; r < n; r++) {
            System.arraycopy(z[from + r], 0, buffer, r * w, w);
        }
        if (conditions != null) {
            ex.load(graph.condition, conditions, from * spec.conditionDim(), n);
        }
        ex.run(params, null, n, 0, 0, 1f);
        return ex.value(graph.output);
    }

    /**
     * The squared reconstruction error of each row summed over the features; for a model with an
     * input scaling in the scaled units it was trained in (so that no feature outweighs the others
     * by its units alone).
     */
    @Override
    public double[] score(float[][] x) {
        if (inputScaling.isNone()) {
            return LatentModel.super.score(x);
        }
        float[][] a = inputScaling.apply(x), b = inputScaling.apply(reconstruct(x));
        double[] s = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double sum = 0;
            for (int j = 0; j < a[i].length; j++) {
                double e = (double) a[i][j] - b[i][j];
                sum += e * e;
            }
            s[i] = sum;
        }
        return s;
    }

    /** Decode(encode(x)): the reconstruction through the latent mean. */
    @Override
    public float[][] reconstruct(float[][] x) {
        return decode(encode(x));
    }

    /** Denoising by a conditional model: the reconstruction (training-only noise layers are off at inference). */
    public float[][] denoise(float[][] x, float[][] conditions) {
        return reconstruct(x, conditions);
    }

    /** Interpolation by a conditional model between two rows, both encoded and decoded with one condition. */
    public float[][] interpolate(float[] a, float[] b, int steps, Interpolation how, float[] condition) {
        if (a == null || b == null) {
            throw new IllegalArgumentException("interpolate needs two rows");
        }
        float[][] z = encode(new float[][] {a, b}, new float[][] {condition, condition});
        float[][] codes = LatentModel.interpolateCodes(z[0], z[1], steps, how);
        float[][] c = new float[codes.length][];
        java.util.Arrays.fill(c, condition);
        return decode(codes, c);
    }

    /** Reconstruction by a conditional model. */
    public float[][] reconstruct(float[][] x, float[][] conditions) {
        return decode(encode(x, conditions), conditions);
    }

    /** n samples decoded from z ~ N(0, I) drawn from the counter-based generator with this seed. */
    @Override
    public float[][] sample(int n, long seed) {
        if (n <= 0) {
            throw new IllegalArgumentException("sample count must be positive, got " + n);
        }
        return decode(priorDraws(n, seed));
    }

    /** n samples of a conditional model for one condition (e.g. a class's one-hot vector). */
    public float[][] sample(int n, long seed, float[] condition) {
        if (n <= 0) {
            throw new IllegalArgumentException("sample count must be positive, got " + n);
        }
        float[][] c = new float[n][];
        java.util.Arrays.fill(c, condition);
        return decode(priorDraws(n, seed), c);
    }

    private float[][] priorDraws(int n, long seed) {
        int zd = latentDim();
        float[] z = new float[n * zd];
        Philox.fillNormal(z, 0, z.length, seed, 0, 0);
        return rows(z, n, zd);
    }

    // ------------------------------------------------------------------ files

    /** Metadata key of the model spec (JSON) in the safetensors file. */
    public static final String SPEC_KEY = "latent4j.spec";

    /**
     * Saves as one safetensors file, atomically: tensors named as the equivalent PyTorch
     * modules ({@code encoder.0.weight} of shape (out, in), ...), the spec as JSON in the metadata.
     */
    @Override
    public void save(Path file, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> md = new LinkedHashMap<>();
        inputScaling.toMetadata(md, Scaling.INPUT_KIND_KEY);
        if (imageShape != null && spec.inputShape() == null) {
            md.put(IMAGE_SHAPE_KEY, imageShape.channels() + "x" + imageShape.height() + "x" + imageShape.width());
        }
        write(file, spec, graph, params, Models.withExtra(md, extraMetadata), List.of());
    }

    /**
     * Writes a model file from a spec, its graph and a parameter arena, with extra metadata and
     * extra tensors after the model's own (a training checkpoint adds its run state this way).
     */
    public static void write(Path file, ModelSpec spec, Graph graph, float[] params, Map<String, String> extraMetadata,
                             List<SafeTensors.Entry> extraTensors) throws IOException {
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (ParamSpec p : graph.params().values()) {
            entries.add(new SafeTensors.Entry(p.name(), p.shape(), params, p.offset()));
        }
        entries.addAll(extraTensors);
        Map<String, String> md = new LinkedHashMap<>();
        md.put(SPEC_KEY, spec.toJson());
        md.put("format", "pt");
        SafeTensors.write(file, Models.withExtra(md, extraMetadata), entries);
    }

    /** Loads a file written by {@link #save}; every tensor is checked against the spec. */
    public static Autoencoder load(Path file) throws IOException {
        return from(SafeTensors.read(file), file);
    }

    /**
     * Metadata key that marks a training checkpoint: such a file also holds the optimizer's
     * moments and early stopping's best weights (tensors named {@code optimizer.*} and
     * {@code early_stopping.*}), which a model ignores.
     */
    public static final String CHECKPOINT_KEY = "latent4j.checkpoint";

    /** A model from the checked contents of a file (read by {@link SafeTensors#read}); errors name the file. */
    public static Autoencoder from(SafeTensors.Contents c, Path file) throws IOException {
        String json = c.metadata().get(SPEC_KEY);
        if (json == null) {
            throw new IOException(file + ": no latent4j model spec in the metadata (key " + SPEC_KEY + "); is it a latent4j model?");
        }
        ModelSpec spec;
        Graph g;
        try {
            spec = ModelSpec.fromJson(json);
            g = Graph.build(spec);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the model spec (metadata " + SPEC_KEY + ") is not valid: "
                    + String.valueOf(e.getMessage()).replaceFirst("^model spec: ", ""), e);
        }
        // Every tensor is checked before the arena is allocated: a spec that claims a huge model
        // cannot make the loader allocate more than the file (already read) really holds.
        for (ParamSpec p : g.params().values()) {
            SafeTensors.Entry e = c.tensors().get(p.name());
            if (e == null) {
                throw new IOException(file + ": tensor " + p.name() + " is missing");
            }
            if (!java.util.Arrays.equals(e.shape(), p.shape())) {
                throw new IOException(file + ": tensor " + p.name() + " has shape " + java.util.Arrays.toString(e.shape())
                        + " but the spec needs " + java.util.Arrays.toString(p.shape()));
            }
        }
        float[] params = new float[g.paramCount()];
        for (ParamSpec p : g.params().values()) {
            SafeTensors.Entry e = c.tensors().get(p.name());
            System.arraycopy(e.data(), e.offset(), params, p.offset(), p.size());
        }
        boolean checkpoint = c.metadata().containsKey(CHECKPOINT_KEY);
        for (String name : c.tensors().keySet()) {
            if (!g.params().containsKey(name) && !(checkpoint && (name.startsWith("optimizer.") || name.startsWith("early_stopping.")))
                    && !(PixelCnnPrior.isPriorTensor(name) && c.metadata().containsKey(PixelCnnPrior.SPEC_KEY))) {
                throw new IOException(file + ": tensor " + name + " is not part of the model spec");
            }
        }
        Autoencoder m = new Autoencoder(spec, params);
        Scaling s = Scaling.fromMetadata(c.metadata(), Scaling.INPUT_KIND_KEY, m.inputDim(), file);
        Shape image = spec.inputShape();
        String recorded = c.metadata().get(IMAGE_SHAPE_KEY);
        if (recorded != null && image == null) {
            image = parseImageShape(recorded, m.inputDim(), file);
        }
        return s.isNone() && image == spec.inputShape() ? m : new Autoencoder(m, s, image);
    }

    /** "CxHxW" of {@link #IMAGE_SHAPE_KEY}, checked: three positive whole numbers whose product is the model's input width. */
    static Shape parseImageShape(String text, int inputDim, Path file) throws IOException {
        String[] parts = text.split("x", -1);
        try {
            if (parts.length == 3) {
                int c = Integer.parseInt(parts[0]), h = Integer.parseInt(parts[1]), w = Integer.parseInt(parts[2]);
                if (c > 0 && h > 0 && w > 0 && (long) c * h * w == inputDim) {
                    return Shape.image(c, h, w);
                }
            }
        } catch (NumberFormatException e) {
            // the message below names it
        }
        throw new IOException(file + ": metadata " + IMAGE_SHAPE_KEY + " is \"" + text + "\", not CxHxW of " + inputDim + " values");
    }

    // ------------------------------------------------------------------ helpers

    static float[] flatten(float[][] x, int width, String what) {
        checkRows(x, width, what);
        float[] out = new float[x.length * width];
        for (int r = 0; r < x.length; r++) {
            System.arraycopy(x[r], 0, out, r * width, width);
        }
        return out;
    }

    /** At least one row, each of {@code width} floats; errors name the row (shared by every model). */
    static void checkRows(float[][] x, int width, String what) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException(what + ": at least one row is needed");
        }
        for (int r = 0; r < x.length; r++) {
            if (x[r] == null || x[r].length != width) {
                throw new IllegalArgumentException(what + " row " + r + " has " + (x[r] == null ? "no" : x[r].length)
                        + " features but the model takes " + width);
            }
        }
    }

    static float[][] rows(float[] flat, int n, int width) {
        float[][] out = new float[n][width];
        for (int r = 0; r < n; r++) {
            System.arraycopy(flat, r * width, out[r], 0, width);
        }
        return out;
    }
}
