package org.latent4j.runtime;

import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Op;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Plan;
import org.latent4j.graph.Step;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Activations;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.LayerKernels;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.Reductions;
import org.latent4j.kernel.VaeKernels;

/**
 * Runs a {@link Plan} with the engine's kernels on buffers allocated once for up to
 * {@code maxBatch} samples. Parameters and their gradients live in flat arenas laid out by the
 * graph ({@link ParamSpec#offset()}). An executor is not thread-safe: use one per thread.
 */
public final class Executor {
    private final Plan plan;
    private final Graph g;
    private final Gemm gemm;
    private final Parallelism parallelism;
    private final int maxBatch;
    private final float[][] slots;
    /** Arena offset of each node's parameters, in the node's order (empty for a node without any). */
    private final int[][] paramOffsets;
    private final Step[] steps;
    private final Node[] nodes;
    private final boolean constantParams;
    private float[][] packedWeights;
    private float[] packedFrom;
    /** Index of the first backward step (steps.length for a forward-only plan). */
    private final int firstBackward;
    /** Per-unit scratch of the penalty kernels (column means, row norms), as wide as the widest node. */
    private final double[] scratch;
    /** The random stream start of each noise node: by its order among the noise layers, the same fused or not. */
    private final long[] noiseStart;
    /** Per-dimension KL weights of the next backward pass (free bits), or null: klWeight for all. */
    private float[] klDimWeights;
    /** The batch mean and biased variance of each batch normalization node's last training forward (null for other nodes). */
    private final double[][] batchMean;
    private final double[][] batchVar;
    private final double[][] batchInvStd;
    /** Per-column float scratch: batch normalization's scale and shift. */
    private final float[] colScale;
    private final float[] colShift;

    /** Second per-unit scratch (batch normalization's backward sums). */
    private final double[] scratch2;
    /** The batch normalization nodes, and the rows of the last training forward (for the running statistics). */
    private final int[] batchNormNodes;
    private int lastTrainingRows;

    public Executor(Plan plan, Parallelism parallelism, int maxBatch) {
        this(plan, parallelism, maxBatch, false);
    }

    /**
     * @param constantParams true when every run gets the same, unchanging parameter array (a
     *                       trained model at inference): the weights are then packed for the GEMM
     *                       once, not on every call (same results, far less work at small batches)
     */
    public Executor(Plan plan, Parallelism parallelism, int maxBatch, boolean constantParams) {
        this.constantParams = constantParams;
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + maxBatch);
        }
        this.plan = plan;
        this.g = plan.graph();
        this.gemm = new Gemm(parallelism);
        this.parallelism = parallelism;
        this.maxBatch = maxBatch;
        int[] widths = plan.slotWidths();
        slots = new float[widths.length][];
        for (int s = 0; s < widths.length; s++) {
            long size = (long) widths[s] * maxBatch;
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("batch of " + maxBatch + " needs a buffer of " + size + " floats, too many for one array");
            }
            slots[s] = new float[(int) size];
        }
        steps = plan.steps().toArray(new Step[0]);
        nodes = g.nodes().toArray(new Node[0]);
        paramOffsets = new int[nodes.length][];
        int widest = 1;
        for (Node n : nodes) {
            paramOffsets[n.id()] = n.params().stream().mapToInt(p -> g.param(p).offset()).toArray();
            widest = Math.max(widest, n.width());
        }
        scratch = new double[widest];
        scratch2 = new double[widest];
        batchMean = new double[nodes.length][];
        batchVar = new double[nodes.length][];
        batchInvStd = new double[nodes.length][];
        colScale = new float[widest];
        colShift = new float[widest];

        batchNormNodes = java.util.Arrays.stream(nodes).filter(n -> n.op() == Op.BATCH_NORM).mapToInt(Node::id).toArray();
        for (int id : batchNormNodes) {
            batchMean[id] = new double[nodes[id].width()];
            batchVar[id] = new double[nodes[id].width()];
            batchInvStd[id] = new double[nodes[id].width()];
        }
        noiseStart = new long[nodes.length];
        int noiseLayers = 0;
        for (Node n : nodes) {
            if (n.op() == Op.NOISE) {
                noiseStart[n.id()] = noiseStart(noiseLayers++);
            }
        }
        int fb = 0;
        while (fb < steps.length && !steps[fb].kind().isBackward()) {
            fb++;
        }
        firstBackward = fb;
    }

    /**
     * Weights of each latent dimension's KL term in the next backward passes instead of the one
     * klWeight (free bits: 0 for a dimension below its floor); null to go back to klWeight.
     * The array is read, not copied.
     */
    public void klDimensionWeights(float[] weights) {
        if (weights != null && (g.mu < 0 || weights.length != nodes[g.mu].width())) {
            throw new IllegalArgumentException("need one KL weight per latent dimension"
                    + (g.mu < 0 ? ", but the model has no Gaussian latent" : " (" + nodes[g.mu].width() + "), got " + weights.length));
        }
        klDimWeights = weights;
    }

    public Plan plan() {
        return plan;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** The buffer holding node {@code id}'s output (batch x width, row-major). */
    public float[] value(int id) {
        int s = plan.valueSlot()[id];
        if (s < 0) {
            throw new IllegalArgumentException("the plan does not compute node " + nodes[id].name());
        }
        return slots[s];
    }

    /** The buffer holding the gradient of node {@code id}'s output. */
    public float[] grad(int id) {
        int s = plan.gradSlot()[id];
        if (s < 0) {
            throw new IllegalArgumentException("the plan has no gradient for node " + nodes[id].name());
        }
        return slots[s];
    }

    /**
     * Runs every step. {@code grads} receives the parameter gradients (overwritten) of the mean
     * over the batch of reconstruction + klWeight * KL; it may be null for a forward-only plan.
     * The reparameterization noise of this call is Philox(seed, stream = rngStream, index).
     */
    public void run(float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight) {
        checkBatch(batch);
        for (Step s : steps) {
            execute(s, params, grads, batch, seed, rngStream, klWeight);
        }
    }

    /**
     * The forward steps of a training plan only (then read the losses, and choose the KL weight
     * from them, e.g. for a capacity objective or free bits); {@link #backward} finishes the step.
     */
    public void forward(float[] params, int batch, long seed, long rngStream) {
        checkBatch(batch);
        for (int k = 0; k < firstBackward; k++) {
            execute(steps[k], params, null, batch, seed, rngStream, 0f);
        }
    }

    /** The backward steps, after {@link #forward} with the same arguments. */
    public void backward(float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight) {
        checkBatch(batch);
        for (int k = firstBackward; k < steps.length; k++) {
            execute(steps[k], params, grads, batch, seed, rngStream, klWeight);
        }
    }

    private void checkBatch(int batch) {
        if (batch <= 0 || batch > maxBatch) {
            throw new IllegalArgumentException("batch of " + batch + " rows, but this executor holds 1 to " + maxBatch);
        }
    }

    /**
     * Where the noise of the k-th noise layer (in model order, from 0) starts in its step's
     * random stream: element i of the batch (row-major) is Philox(seed, step, noiseStart(k) + i);
     * the reparameterization noise takes the indices from 0.
     */
    public static long noiseStart(int k) {
        return (long) (k + 1) << 40;
    }

    /** Runs one step of the plan. */
    private void execute(Step s, float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight) {
        float invB = 1f / batch;
        {
            Node n = nodes[s.node()];
            int id = n.id();
            switch (s.kind()) {
                case DENSE_FORWARD -> {
                    int in = nodes[n.inputs().get(0)].width(), out = n.width();
                    float[] x = value(n.inputs().get(0)), y = value(id);
                    if (constantParams) {
                        gemm.gemmPacked(y, 0, out, false, batch, out, in, 1f, x, 0, in, packed(params, id, in, out), 0f);
                    } else {
                        gemm.gemm(y, 0, out, false, true, batch, out, in, 1f, x, 0, in, params, paramOffsets[id][0], in, 0f);
                    }
                    rows(RowOp.BIAS_ACTIVATION, n, y, null, params, paramOffsets[id][1], batch, out);
                }
                case MATMUL_FORWARD -> {
                    int in = nodes[n.inputs().get(0)].width(), out = n.width();
                    gemm.gemm(value(id), 0, out, false, true, batch, out, in, 1f, value(n.inputs().get(0)), 0, in,
                            params, paramOffsets[id][0], in, 0f);
                }
                case BIAS_ADD_FORWARD -> Activations.biasForward(Activation.IDENTITY, 0f, value(id), 0,
                        value(n.inputs().get(0)), 0, params, paramOffsets[id][0], batch, n.width());
                case ACTIVATION_FORWARD -> Activations.forward(n.activation(), n.activationParam(), value(id), 0,
                        value(n.inputs().get(0)), 0, batch * n.width());
                case REPARAMETERIZE_FORWARD -> {
                    float[] eps = slots[plan.auxSlot()[id]];
                    int count = batch * n.width();
                    Philox.fillNormal(eps, 0, count, seed, rngStream, 0);
                    VaeKernels.reparameterize(value(id), value(n.inputs().get(0)), value(n.inputs().get(1)), eps, count);
                }
                case KL_FORWARD -> VaeKernels.gaussianKl(value(id), value(n.inputs().get(0)), value(n.inputs().get(1)),
                        batch, nodes[n.inputs().get(0)].width());
                case BERNOULLI_NLL_FORWARD -> rows(RowOp.BERNOULLI_ROWS, n, value(n.inputs().get(0)), value(n.inputs().get(1)),
                        value(id), 0, batch, nodes[n.inputs().get(0)].width());
                case GAUSSIAN_NLL_FORWARD -> gaussianNll(n, params, batch);
                case HUBER_FORWARD -> LayerKernels.huberForward(value(id), value(n.inputs().get(0)), value(n.inputs().get(1)),
                        n.variance(), batch, nodes[n.inputs().get(0)].width());
                case HUBER_BACKWARD -> {
                    int out = n.inputs().get(0);
                    LayerKernels.huberBackward(grad(out), value(out), value(n.inputs().get(1)), n.variance(), invB,
                            batch * nodes[out].width());
                }
                case CONCAT_FORWARD -> {
                    int a = n.inputs().get(0), c = n.inputs().get(1);
                    int wa = nodes[a].width(), wc = nodes[c].width(), w = n.width();
                    float[] y = value(id), xa = value(a), xc = value(c);
                    for (int r = 0; r < batch; r++) {
                        System.arraycopy(xa, r * wa, y, r * w, wa);
                        System.arraycopy(xc, r * wc, y, r * w + wa, wc);
                    }
                }
                case CONCAT_BACKWARD -> {
                    int w = n.width(), from = 0;
                    float[] dy = grad(id);
                    for (int k = 0; k < n.inputs().size(); k++) {   // indexed: no iterator per step
                        int in = n.inputs().get(k);
                        int wi = nodes[in].width();
                        if (plan.gradSlot()[in] >= 0) {
                            float[] dx = grad(in);
                            for (int r = 0; r < batch; r++) {
                                for (int j = 0; j < wi; j++) {
                                    float v = dy[r * w + from + j];
                                    dx[r * wi + j] = s.accumulate() ? dx[r * wi + j] + v : v;
                                }
                            }
                        }
                        from += wi;
                    }
                }
                case NOISE_FORWARD -> noise(n, batch, seed, rngStream);
                case NOISE_BACKWARD -> {
                    int count = batch * n.width();
                    if (n.layer().kind() == org.latent4j.dsl.LayerSpec.Kind.GAUSSIAN_NOISE) {
                        LayerKernels.passBackward(grad(n.inputs().get(0)), grad(id), s.accumulate(), count);
                    } else {
                        LayerKernels.maskBackward(grad(n.inputs().get(0)), grad(id), slots[plan.auxSlot()[id]], s.accumulate(), count);
                    }
                }
                case CLAMP_FORWARD -> LayerKernels.clampForward(value(id), value(n.inputs().get(0)), g.spec().latent().logvarMin(),
                        g.spec().latent().logvarMax(), batch * n.width());
                case CLAMP_BACKWARD -> {
                    noAccumulate(s, n);
                    LayerKernels.clampBackward(grad(n.inputs().get(0)), grad(id), value(n.inputs().get(0)),
                            g.spec().latent().logvarMin(), g.spec().latent().logvarMax(), batch * n.width());
                }
                case SPARSITY_FORWARD -> LayerKernels.sparsityForward(value(id), value(n.inputs().get(0)), scratch,
                        n.layer().parameter(), n.layer().weight(), batch, nodes[n.inputs().get(0)].width());
                case SPARSITY_BACKWARD -> LayerKernels.sparsityBackward(grad(n.inputs().get(0)), value(n.inputs().get(0)), scratch,
                        n.layer().parameter(), n.layer().weight(), s.accumulate(), batch, nodes[n.inputs().get(0)].width());
                case ACTIVITY_L1_FORWARD -> LayerKernels.activityL1Forward(value(id), value(n.inputs().get(0)), n.layer().weight(),
                        batch, nodes[n.inputs().get(0)].width());
                case ACTIVITY_L1_BACKWARD -> LayerKernels.activityL1Backward(grad(n.inputs().get(0)), value(n.inputs().get(0)),
                        n.layer().weight() * invB, s.accumulate(), batch * nodes[n.inputs().get(0)].width());
                case CONTRACTIVE_FORWARD, CONTRACTIVE_BACKWARD, CONTRACTIVE_WEIGHT_BACKWARD -> contractive(s, n, params, grads, batch, invB);
                case BATCH_NORM_FORWARD -> batchNorm(n, params, batch);
                case BATCH_NORM_BACKWARD -> {
                    int in = n.inputs().get(0);
                    LayerKernels.batchNormBackward(plan.gradSlot()[in] >= 0 ? grad(in) : null, s.accumulate(), grads, grad(id), value(in),
                            batchMean[id], batchInvStd[id], params, paramOffsets[id][0], paramOffsets[id][1], scratch, scratch2,
                            batch, n.width());
                }
                case BERNOULLI_NLL_BACKWARD -> {
                    int out = n.inputs().get(0);
                    VaeKernels.bceWithLogitsBackward(grad(out), value(out), value(n.inputs().get(1)), invB, batch * nodes[out].width());
                }
                case GAUSSIAN_NLL_BACKWARD -> gaussianNllBackward(n, params, grads, batch, invB);
                case REPARAMETERIZE_KL_BACKWARD -> {
                    int mu = n.inputs().get(0), lv = n.inputs().get(1);
                    if (s.accumulate()) {
                        throw new IllegalStateException("the mean and log-variance of " + n.name() + " feed other layers; not supported");
                    }
                    VaeKernels.reparameterizeKlBackward(grad(mu), grad(lv), grad(id), value(mu), value(lv),
                            slots[plan.auxSlot()[id]], klDimWeights == null ? klWeight * invB : 0f, batch * n.width());
                    if (klDimWeights != null) {
                        VaeKernels.klBackwardByDimension(grad(mu), grad(lv), value(mu), value(lv), klDimWeights, invB, batch, n.width());
                    }
                }
                case DENSE_BACKWARD -> {
                    int inId = n.inputs().get(0);
                    int in = nodes[inId].width(), out = n.width();
                    float[] dy = grad(id);
                    // dz = act'(y) * dy, in place; db = column sums; dW = dz^T x; dx (+)= dz W.
                    rows(RowOp.ACTIVATION_BACKWARD, n, dy, value(id), null, 0, batch, out);
                    Reductions.colSums(grads, paramOffsets[id][1], dy, 0, batch, out, false);
                    gemm.gemm(grads, paramOffsets[id][0], in, true, false, out, in, batch, 1f, dy, 0, out, value(inId), 0, in, 0f);
                    if (plan.gradSlot()[inId] >= 0) {
                        gemm.gemm(grad(inId), 0, in, false, false, batch, in, out, 1f, dy, 0, out, params, paramOffsets[id][0], in,
                                s.accumulate() ? 1f : 0f);
                    }
                }
                case MATMUL_BACKWARD -> {
                    int inId = n.inputs().get(0);
                    int in = nodes[inId].width(), out = n.width();
                    float[] dy = grad(id);
                    gemm.gemm(grads, paramOffsets[id][0], in, true, false, out, in, batch, 1f, dy, 0, out, value(inId), 0, in, 0f);
                    if (plan.gradSlot()[inId] >= 0) {
                        gemm.gemm(grad(inId), 0, in, false, false, batch, in, out, 1f, dy, 0, out, params, paramOffsets[id][0], in,
                                s.accumulate() ? 1f : 0f);
                    }
                }
                case BIAS_ADD_BACKWARD -> {
                    noAccumulate(s, n);
                    float[] dy = grad(id);
                    Reductions.colSums(grads, paramOffsets[id][0], dy, 0, batch, n.width(), false);
                    System.arraycopy(dy, 0, grad(n.inputs().get(0)), 0, batch * n.width());
                }
                case ACTIVATION_BACKWARD -> {
                    noAccumulate(s, n);
                    Activations.backward(n.activation(), n.activationParam(), grad(n.inputs().get(0)), 0, grad(id), 0,
                            value(id), 0, batch * n.width());
                }
            }
        }
    }

    /**
     * Where the first non-finite number (NaN or infinity) of a run appears.
     *
     * @param step   index of the plan step that produced it, or -1 when it was already in the
     *               parameters or the input
     * @param node   the node whose step produced it (or the input node)
     * @param tensor what holds it: {@code "output"}, {@code "gradient of <node>"} or a parameter
     *               or parameter-gradient name
     * @param index  its position in that tensor (row-major)
     */
    public record NonFinite(int step, Step.Kind kind, Node node, String tensor, long index, float value) {
        /** One sentence: the op, the layer and the tensor. */
        public String describe() {
            String where = kind == null ? "" : (kind.isBackward() ? "in the backward pass of " : "in the forward pass of ");
            return where + "layer " + node.name() + " (op " + node.op() + "): " + tensor + " holds " + value
                    + " at element " + index;
        }
    }

    /**
     * Runs the plan like {@link #run} but checks every step's results, and returns the first place
     * where a NaN or infinity appears (parameters and input first), or null when there is none.
     * Slow (a pass over every buffer per step): for diagnosing a run that went wrong.
     */
    public NonFinite findNonFinite(float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight) {
        for (Node n : nodes) {
            for (String p : n.params()) {
                ParamSpec ps = g.param(p);
                int at = firstNonFinite(params, ps.offset(), ps.size());
                if (at >= 0) {
                    return new NonFinite(-1, null, n, "parameter " + p, at, params[ps.offset() + at]);
                }
            }
        }
        Node input = nodes[g.input];
        int at = plan.valueSlot()[g.input] < 0 ? -1 : firstNonFinite(value(g.input), 0, batch * input.width());
        if (at >= 0) {
            return new NonFinite(-1, null, input, "the input batch (row " + at / input.width() + ", column "
                    + at % input.width() + ")", at, value(g.input)[at]);
        }
        for (int k = 0; k < steps.length; k++) {
            Step s = steps[k];
            execute(s, params, grads, batch, seed, rngStream, klWeight);
            Node n = nodes[s.node()];
            if (!s.kind().isBackward()) {
                float[] y = value(n.id());
                at = firstNonFinite(y, 0, batch * n.width());
                if (at >= 0) {
                    return new NonFinite(k, s.kind(), n, "output (row " + at / n.width() + ", column " + at % n.width() + ")", at, y[at]);
                }
                continue;
            }
            for (String p : n.params()) {
                ParamSpec ps = g.param(p);
                at = firstNonFinite(grads, ps.offset(), ps.size());
                if (at >= 0) {
                    return new NonFinite(k, s.kind(), n, "gradient of parameter " + p, at, grads[ps.offset() + at]);
                }
            }
            for (int in : n.inputs()) {
                if (plan.gradSlot()[in] >= 0) {
                    float[] dx = grad(in);
                    at = firstNonFinite(dx, 0, batch * nodes[in].width());
                    if (at >= 0) {
                        return new NonFinite(k, s.kind(), n, "gradient of its input " + nodes[in].name(), at, dx[at]);
                    }
                }
            }
        }
        return null;
    }

    private static int firstNonFinite(float[] a, int off, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(a[off + i])) {
                return i;
            }
        }
        return -1;
    }

    /** The weight of node id (out x in, used transposed) packed for the GEMM, made on first use. */
    private float[] packed(float[] params, int id, int in, int out) {
        if (packedFrom != params) {
            packedWeights = new float[nodes.length][];
            packedFrom = params;
        }
        float[] p = packedWeights[id];
        if (p == null) {
            p = Gemm.packB(true, in, out, params, paramOffsets[id][0], in);
            packedWeights[id] = p;
        }
        return p;
    }

    // ------------------------------------------------------------------ row-parallel element-wise steps

    /** The element-wise steps split over rows (each row is computed alike whatever the split). */
    private enum RowOp { BIAS_ACTIVATION, ACTIVATION_BACKWARD, BERNOULLI_ROWS }

    /** Below this many floats a step runs on the calling thread. */
    private static final int PARALLEL_FLOATS = 1 << 15;
    private RowOp rowOp;
    private Node rowNode;
    private float[] rowA;
    private float[] rowB;
    private float[] rowC;
    private int rowOff;
    private int rowCount;
    private int rowWidth;
    private int rowShares;
    private final java.util.function.IntConsumer rowBody = this::rowShare;

    /** Runs op on rows [0, batch) of width floats, on the threads when large. Allocates nothing. */
    private void rows(RowOp op, Node n, float[] a, float[] b, float[] c, int off, int batch, int width) {
        rowOp = op;
        rowNode = n;
        rowA = a;
        rowB = b;
        rowC = c;
        rowOff = off;
        rowCount = batch;
        rowWidth = width;
        rowShares = (long) batch * width >= PARALLEL_FLOATS ? Math.min(parallelism.threads(), batch) : 1;
        try {
            parallelism.forEach(rowShares, rowBody);
        } finally {
            rowA = null;
            rowB = null;
            rowC = null;
        }
    }

    private void rowShare(int t) {
        int r0 = (int) ((long) rowCount * t / rowShares), r1 = (int) ((long) rowCount * (t + 1) / rowShares);
        if (r1 <= r0) {
            return;
        }
        int w = rowWidth;
        Node n = rowNode;
        switch (rowOp) {
            case BIAS_ACTIVATION -> Activations.biasForward(n.activation(), n.activationParam(), rowA, r0 * w, rowA, r0 * w,
                    rowC, rowOff, r1 - r0, w);
            case ACTIVATION_BACKWARD -> Activations.backward(n.activation(), n.activationParam(), rowA, r0 * w, rowA, r0 * w,
                    rowB, r0 * w, (r1 - r0) * w);
            case BERNOULLI_ROWS -> {
                for (int r = r0; r < r1; r++) {
                    rowC[r] = org.latent4j.kernel.VMath.bceRowSum(rowA, rowB, r * w, w);
                }
            }
        }
    }

    /** A noise layer: its noise in a training plan, a copy at inference. */
    private void noise(Node n, int batch, long seed, long rngStream) {
        int count = batch * n.width();
        float[] x = value(n.inputs().get(0)), y = value(n.id());
        if (!plan.training()) {
            System.arraycopy(x, 0, y, 0, count);
            return;
        }
        float[] aux = slots[plan.auxSlot()[n.id()]];
        float amount = n.layer().parameter();
        long start = noiseStart[n.id()];
        switch (n.layer().kind()) {
            case GAUSSIAN_NOISE -> {
                Philox.fillNormal(aux, 0, count, seed, rngStream, start);
                LayerKernels.gaussianNoiseForward(y, x, aux, amount, count);
            }
            case MASKING_NOISE, DROPOUT -> {
                Philox.fillUniform(aux, 0, count, seed, rngStream, start);
                LayerKernels.maskForward(y, x, aux, amount,
                        n.layer().kind() == org.latent4j.dsl.LayerSpec.Kind.DROPOUT ? 1f / (1f - amount) : 1f, count);
            }
            case SALT_AND_PEPPER -> {
                Philox.fillUniform(aux, 0, count, seed, rngStream, start);
                LayerKernels.saltAndPepperForward(y, x, aux, amount, count);
            }
            case DENSE, ACTIVATION, SPARSITY, ACTIVITY_L1, BATCH_NORM -> throw new IllegalStateException(n.name() + " is not a noise layer");
        }
    }

    /** Batch normalization: by the batch's statistics in a training plan (kept for the running ones), by the running ones at inference. */
    private void batchNorm(Node n, float[] params, int batch) {
        int id = n.id(), w = n.width();
        float[] x = value(n.inputs().get(0)), y = value(id);
        float eps = n.layer().weight();
        double[] mean = batchMean[id];
        if (!plan.training()) {
            int mo = paramOffsets[id][2], vo = paramOffsets[id][3];
            for (int j = 0; j < w; j++) {
                mean[j] = params[mo + j];
                scratch2[j] = params[vo + j];
            }
            LayerKernels.inverseStd(scratch, scratch2, eps, w);
        } else {
            if (batch < 2) {
                throw new IllegalArgumentException(n.name() + ": batch normalization needs at least 2 rows per training batch, got " + batch);
            }
            LayerKernels.batchStatistics(mean, batchVar[id], x, batch, w);
            LayerKernels.inverseStd(batchInvStd[id], batchVar[id], eps, w);
            lastTrainingRows = batch;
        }
        LayerKernels.batchNormForward(y, x, mean, plan.training() ? batchInvStd[id] : scratch, params, paramOffsets[id][0],
                paramOffsets[id][1], colScale, colShift, batch, w);
    }

    /**
     * Moves the batch normalization layers' running mean and variance (state in the arena, after
     * the trained tensors) toward the statistics of the last training forward pass. The trainer
     * calls it once per applied step, after the optimizer, so a skipped batch leaves them as they
     * were. Does nothing for a model without batch normalization.
     */
    public void updateRunningStatistics(float[] params) {
        if (batchNormNodes.length == 0) {
            return;
        }
        if (!plan.training() || lastTrainingRows == 0) {
            throw new IllegalStateException("running statistics come from a training plan's forward pass; none has run");
        }
        for (int id : batchNormNodes) {
            Node n = nodes[id];
            LayerKernels.batchNormRunningUpdate(params, paramOffsets[id][2], paramOffsets[id][3],
                    batchMean[id], batchVar[id], n.layer().parameter(), lastTrainingRows, n.width());
        }
    }

    /** The contractive penalty's steps: its value, its gradient through the code, its weight's own term. */
    private void contractive(Step s, Node n, float[] params, float[] grads, int batch, float invB) {
        int code = n.inputs().get(0);
        int units = nodes[code].width();
        ParamSpec w = g.param(n.params().get(0));
        float weight = g.spec().latent().contractive();
        float[] h = value(code);
        switch (s.kind()) {
            case CONTRACTIVE_FORWARD -> {
                LayerKernels.rowNormsSquared(scratch, params, w.offset(), units, w.cols());
                LayerKernels.contractiveForward(value(n.id()), h, scratch, n.activation(), weight, batch, units);
            }
            case CONTRACTIVE_BACKWARD -> {
                LayerKernels.rowNormsSquared(scratch, params, w.offset(), units, w.cols());
                LayerKernels.contractiveBackward(grad(code), h, scratch, n.activation(), weight * invB, s.accumulate(), batch, units);
            }
            default -> LayerKernels.contractiveWeightBackward(grads, w.offset(), params, w.offset(), h, scratch, n.activation(),
                    weight, batch, units, w.cols());
        }
    }

    private static void noAccumulate(Step s, Node n) {
        if (s.accumulate()) {
            throw new IllegalStateException(n.name() + ": the input of this layer feeds several layers; not supported for " + n.op());
        }
    }

    private static final float LOG_2PI = (float) StrictMath.log(2 * Math.PI);

    /** -log N(x | mean, var) summed over features, per row; var fixed or exp(learned logvar). */
    private void gaussianNll(Node n, float[] params, int batch) {
        int outId = n.inputs().get(0);
        int d = nodes[outId].width();
        float[] mean = value(outId), x = value(n.inputs().get(1)), loss = value(n.id());
        if (n.params().isEmpty()) {
            VaeKernels.squaredError(loss, mean, x, batch, d);
            float var = n.variance();
            float c = 0.5f * d * (float) StrictMath.log(2 * Math.PI * var);
            for (int r = 0; r < batch; r++) {
                loss[r] = loss[r] / (2f * var) + c;
            }
        } else {
            int lo = paramOffsets[n.id()][0];
            int stride = g.param(n.params().get(0)).rows() == 1 ? 0 : 1;
            for (int r = 0; r < batch; r++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    float diff = mean[r * d + j] - x[r * d + j];
                    float lv = params[lo + j * stride];
                    s += 0.5 * (diff * diff * StrictMath.exp(-lv) + lv + LOG_2PI);
                }
                loss[r] = (float) s;
            }
        }
    }

    private void gaussianNllBackward(Node n, float[] params, float[] grads, int batch, float invB) {
        int outId = n.inputs().get(0);
        int d = nodes[outId].width();
        float[] mean = value(outId), x = value(n.inputs().get(1)), g = grad(outId);
        if (n.params().isEmpty()) {
            VaeKernels.squaredErrorBackward(g, mean, x, invB / (2f * n.variance()), batch * d);
            return;
        }
        int lo = paramOffsets[n.id()][0];
        int stride = this.g.param(n.params().get(0)).rows() == 1 ? 0 : 1;
        for (int j = 0; j < d * stride || j < 1; j++) {
            grads[lo + j] = 0f;
        }
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < d; j++) {
                float diff = mean[r * d + j] - x[r * d + j];
                float prec = (float) StrictMath.exp(-params[lo + j * stride]);
                g[r * d + j] = diff * prec * invB;
                grads[lo + j * stride] += 0.5f * (1f - diff * diff * prec) * invB;
            }
        }
    }

    /** Puts {@code batch} rows of input (batch x width of node id) into that node's buffer. */
    public void load(int id, float[] rows, int offset, int batch) {
        int w = nodes[id].width();
        checkBatch(batch);
        if (offset < 0 || (long) offset + (long) batch * w > rows.length) {
            throw new IllegalArgumentException("input of " + batch + " x " + w + " floats at " + offset + " does not fit an array of " + rows.length);
        }
        System.arraycopy(rows, offset, value(id), 0, batch * w);
    }

    public Graph graph() {
        return g;
    }

    /** True when the plan contains a node of this op (e.g. to know a plan samples z). */
    public boolean has(Op op) {
        for (Step s : steps) {
            if (nodes[s.node()].op() == op) {
                return true;
            }
        }
        return false;
    }
}
