package org.latent4j.runtime;

import org.latent4j.kernel.Shape;
import java.util.function.IntConsumer;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Op;
import org.latent4j.graph.OpContext;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Plan;
import org.latent4j.graph.Step;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Gemv;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.SpinTeam;

/**
 * Runs a {@link Plan}: every step calls its node's op rule ({@link Op#forward} or
 * {@link Op#backward}) on buffers allocated once for up to {@code maxBatch} samples, as the plan
 * placed them. Parameters and their gradients live in flat arenas laid out by the graph
 * ({@link ParamSpec#offset()}). The executor knows no op and never reads the model's spec: what
 * an op needs is in its node. An executor is not thread-safe: use one per thread.
 */
public final class Executor implements OpContext {
    private final Plan plan;
    private final Graph g;
    private final Gemm gemm;
    private final Parallelism parallelism;
    private final int maxBatch;
    private final float[][] slots;
    private final double[][] doubleSlots;
    private final int[][] intSlots;
    /** The step scratch (a convolution's im2row chunks), the largest any op of the plan asks for. */
    private final float[] stepScratch;
    private org.latent4j.kernel.Conv2d conv;
    /** Arena offset of each node's parameters, in the node's order (empty for a node without any). */
    private final int[][] paramOffsets;
    private final ParamSpec[][] paramSpecs;
    private final Step[] steps;
    private final Node[] nodes;
    private final boolean constantParams;
    private float[][] packedWeights;
    private int[][] packedWeights16;
    private float[] packedFrom;
    private final Gemv gemv;
    private final boolean bf16Weights;
    /** Index of the first backward step (steps.length for a forward-only plan). */
    private final int firstBackward;
    private final float[][] scratch;
    private final double[][] scratchDoubles;
    /** Per node, its op's buffers by index (a float or a double array; null for the other type or when not planned). */
    private final float[][][] floatBuffers;
    private final double[][][] doubleBuffers;
    private final int[][][] intBuffers;
    /** The nodes whose op keeps state updated after a step, and the rows of the last training forward. */
    private final int[] stateNodes;
    private int lastTrainingRows;
    /** Per-dimension KL weights of the next backward passes (free bits), or null: klWeight for all. */
    private float[] klDimWeights;

    // The step being run (what the OpContext methods answer for).
    private Step step;
    private Node node;
    private int batch;
    private float[] params;
    private float[] grads;
    private long seed;
    private long stream;
    private float klWeight;

    public Executor(Plan plan, Parallelism parallelism, int maxBatch) {
        this(plan, parallelism, maxBatch, false);
    }

    /**
     * @param constantParams true when every run gets the same, unchanging parameter array (a
     *                       trained model at inference): the weights are then packed for the GEMM
     *                       once, not on every call (same results, far less work at small batches)
     */
    public Executor(Plan plan, Parallelism parallelism, int maxBatch, boolean constantParams) {
        this(plan, parallelism, maxBatch, constantParams, null, false);
    }

    /**
     * @param constantParams as above; then a batch of one runs its dense layers on {@link Gemv}
     * @param team           the threads a one-row product may use (null: the calling thread); only with constantParams
     * @param bf16Weights    one-row products read the weights in bfloat16 (half the bytes, each
     *                       weight to 2^-9 relative); only with constantParams. Larger batches keep float weights.
     */
    public Executor(Plan plan, Parallelism parallelism, int maxBatch, boolean constantParams, SpinTeam team, boolean bf16Weights) {
        this.constantParams = constantParams;
        this.gemv = constantParams ? new Gemv(team) : null;
        this.bf16Weights = constantParams && bf16Weights;
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + maxBatch);
        }
        this.plan = plan;
        this.g = plan.graph();
        this.gemm = new Gemm(parallelism);
        this.parallelism = parallelism;
        this.maxBatch = maxBatch;
        int[] widths = plan.slotWidths(), fixed = plan.slotFixed();
        slots = new float[widths.length][];
        for (int s = 0; s < widths.length; s++) {
            slots[s] = new float[floats((long) widths[s] * maxBatch + fixed[s])];
        }
        doubleSlots = new double[plan.doubleSlotSizes().length][];
        for (int s = 0; s < doubleSlots.length; s++) {
            doubleSlots[s] = new double[plan.doubleSlotSizes()[s]];
        }
        intSlots = new int[plan.intSlotWidths().length][];
        for (int s = 0; s < intSlots.length; s++) {
            intSlots[s] = new int[floats((long) plan.intSlotWidths()[s] * maxBatch)];
        }
        scratch = new float[][] {new float[floats((long) plan.scratchWidth() * maxBatch)], new float[floats((long) plan.scratchWidth() * maxBatch)]};
        scratchDoubles = new double[][] {new double[plan.scratchWidth()], new double[plan.scratchWidth()]};
        steps = plan.steps().toArray(new Step[0]);
        nodes = g.nodes().toArray(new Node[0]);
        paramOffsets = new int[nodes.length][];
        paramSpecs = new ParamSpec[nodes.length][];
        for (Node n : nodes) {
            paramSpecs[n.id()] = n.params().stream().map(g::param).toArray(ParamSpec[]::new);
            paramOffsets[n.id()] = java.util.Arrays.stream(paramSpecs[n.id()]).mapToInt(ParamSpec::offset).toArray();
        }
        floatBuffers = new float[nodes.length][][];
        doubleBuffers = new double[nodes.length][][];
        intBuffers = new int[nodes.length][][];
        long stepFloats = 0;
        for (Node n : nodes) {
            int[] bs = plan.bufferSlot()[n.id()];
            floatBuffers[n.id()] = new float[bs.length][];
            doubleBuffers[n.id()] = new double[bs.length][];
            intBuffers[n.id()] = new int[bs.length][];
            java.util.List<org.latent4j.kernel.Shape> in = n.inputs().stream().map(i -> nodes[i].shape()).toList();
            java.util.List<Op.Buffer> types = n.op().buffers(n, in, plan.training());
            for (int k = 0; k < bs.length; k++) {
                if (bs[k] >= 0) {
                    switch (types.get(k).type()) {
                        case FLOATS -> floatBuffers[n.id()][k] = slots[bs[k]];
                        case DOUBLES -> doubleBuffers[n.id()][k] = doubleSlots[bs[k]];
                        case INTS -> intBuffers[n.id()][k] = intSlots[bs[k]];
                    }
                }
            }
            stepFloats = Math.max(stepFloats, n.op().stepScratchFloats(n, in, maxBatch, parallelism.threads()));
        }
        stepScratch = new float[floats(stepFloats)];
        conv = stepFloats > 0 ? new org.latent4j.kernel.Conv2d(parallelism) : null; // made once: a step allocates nothing
        boolean[] inPlan = new boolean[nodes.length];
        for (Step s : steps) {
            inPlan[s.node()] = true;
        }
        stateNodes = java.util.Arrays.stream(nodes).filter(n -> inPlan[n.id()] && n.op().hasState()).mapToInt(Node::id).toArray();
        int fb = 0;
        while (fb < steps.length && !steps[fb].backward()) {
            fb++;
        }
        firstBackward = fb;
    }

    private int floats(long size) {
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch of " + maxBatch + " needs a buffer of " + size + " floats, too many for one array");
        }
        return (int) size;
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

    public Graph graph() {
        return g;
    }

    /** The buffer holding node {@code id}'s output (batch x width, row-major). */
    @Override
    public float[] value(int id) {
        int s = plan.valueSlot()[id];
        if (s < 0) {
            throw new IllegalArgumentException("the plan does not compute node " + nodes[id].name());
        }
        return slots[s];
    }

    /**
     * Node {@code id}'s int buffer k ({@link Op#buffers} by index: a quantizer's code indices) as the
     * last run left it; read, not copied.
     */
    public int[] intBuffer(int id, int k) {
        int[] b = intBuffers[id][k];
        if (b == null) {
            throw new IllegalArgumentException("the plan keeps no int buffer " + k + " of node " + nodes[id].name());
        }
        return b;
    }

    /** The buffer holding the gradient of node {@code id}'s output. */
    @Override
    public float[] gradient(int id) {
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
        begin(params, grads, batch, seed, rngStream, klWeight);
        for (Step s : steps) {
            execute(s);
        }
    }

    /**
     * Runs every step like {@link #run}, adding each step's wall time in nanoseconds to
     * {@code nanos[k]} (k the step's index in the plan), for profiling which op costs what.
     */
    public void runTimed(float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight, long[] nanos) {
        if (nanos.length < steps.length) {
            throw new IllegalArgumentException("need a time slot per step (" + steps.length + "), got " + nanos.length);
        }
        begin(params, grads, batch, seed, rngStream, klWeight);
        for (int k = 0; k < steps.length; k++) {
            long t0 = System.nanoTime();
            execute(steps[k]);
            nanos[k] += System.nanoTime() - t0;
        }
    }

    /**
     * The forward steps of a training plan only (then read the losses, and choose the KL weight
     * from them, e.g. for a capacity objective or free bits); {@link #backward} finishes the step.
     */
    public void forward(float[] params, int batch, long seed, long rngStream) {
        begin(params, null, batch, seed, rngStream, 0f);
        for (int k = 0; k < firstBackward; k++) {
            execute(steps[k]);
        }
    }

    /** The backward steps, after {@link #forward} with the same arguments. */
    public void backward(float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight) {
        begin(params, grads, batch, seed, rngStream, klWeight);
        for (int k = firstBackward; k < steps.length; k++) {
            execute(steps[k]);
        }
    }

    private void begin(float[] params, float[] grads, int batch, long seed, long rngStream, float klWeight) {
        checkBatch(batch);
        this.params = params;
        this.grads = grads;
        this.batch = batch;
        this.seed = seed;
        this.stream = rngStream;
        this.klWeight = klWeight;
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
        return Ops.Noise.streamStart(k);
    }

    /** Runs one step of the plan: its node's op rule. */
    private void execute(Step s) {
        step = s;
        node = nodes[s.node()];
        if (s.backward()) {
            node.op().backward(node, this);
        } else {
            node.op().forward(node, this);
            if (plan.training()) {
                lastTrainingRows = batch;
            }
        }
    }

    /**
     * Updates the state of the ops that keep one (batch normalization's running mean and
     * variance, in the arena after the trained tensors) from the last training forward pass. The
     * trainer calls it once per applied step, after the optimizer, so a skipped batch leaves the
     * state as it was. Does nothing for a model without such ops.
     */
    public void updateRunningStatistics(float[] params) {
        updateRunningStatistics(params, null);
    }

    /**
     * {@link #updateRunningStatistics(float[])}, telling {@code reset} (may be null) which trained
     * parameters a state update replaced (a re-seeded code), so the optimizer restarts their moments.
     */
    public void updateRunningStatistics(float[] params, OpContext.OptimizerReset reset) {
        if (stateNodes.length == 0) {
            return;
        }
        if (!plan.training() || lastTrainingRows == 0) {
            throw new IllegalStateException("running statistics come from a training plan's forward pass; none has run");
        }
        this.params = params;
        this.batch = lastTrainingRows;
        this.optimizerReset = reset;
        try {
            for (int id : stateNodes) {
                node = nodes[id];
                step = null;
                node.op().updateState(node, this);
            }
        } finally {
            this.optimizerReset = null;
        }
    }

    private OpContext.OptimizerReset optimizerReset;

    @Override
    public void resetOptimizerState(int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > params.length) {
            throw new IllegalArgumentException("optimizer reset of [" + offset + ", " + (offset + length) + ") outside the arena of " + params.length);
        }
        if (optimizerReset != null) {
            optimizerReset.reset(offset, length);
        }
    }

    // ------------------------------------------------------------------ OpContext

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public boolean training() {
        return plan.training();
    }

    @Override
    public float[] params() {
        return params;
    }

    @Override
    public float[] gradients() {
        return grads;
    }

    @Override
    public int paramOffset(int k) {
        return paramOffsets[node.id()][k];
    }

    @Override
    public ParamSpec paramSpec(int k) {
        return paramSpecs[node.id()][k];
    }

    @Override
    public Node node(int id) {
        return nodes[id];
    }

    @Override
    public boolean needsGradient(int input) {
        return step != null && step.receivesGradient(input);
    }

    @Override
    public boolean accumulate(int input) {
        return step != null && step.accumulate(input);
    }

    @Override
    public boolean accumulateParam(int k) {
        return step != null && step.accumulateParam(k);
    }

    @Override
    public float[] floats(int k) {
        float[] b = floatBuffers[node.id()][k];
        if (b == null) {
            throw new IllegalStateException(node.name() + ": buffer " + k + " is not a float buffer of this plan");
        }
        return b;
    }

    @Override
    public double[] doubles(int k) {
        double[] b = doubleBuffers[node.id()][k];
        if (b == null) {
            throw new IllegalStateException(node.name() + ": buffer " + k + " is not a double buffer of this plan");
        }
        return b;
    }

    @Override
    public int[] ints(int k) {
        int[] b = intBuffers[node.id()][k];
        if (b == null) {
            throw new IllegalStateException(node.name() + ": buffer " + k + " is not an int buffer of this plan");
        }
        return b;
    }

    @Override
    public float[] stepScratch() {
        return stepScratch;
    }

    /** The convolution kernels, made on first use (a plan without convolutions never makes them). */
    @Override
    public org.latent4j.kernel.Conv2d conv() {
        if (conv == null) {
            conv = new org.latent4j.kernel.Conv2d(parallelism);
        }
        return conv;
    }

    @Override
    public float[] scratch(int k) {
        return scratch[k];
    }

    @Override
    public double[] scratchDoubles(int k) {
        return scratchDoubles[k];
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public long stream() {
        return stream;
    }

    @Override
    public float lossScale() {
        return 1f / batch;
    }

    @Override
    public float klScale() {
        return klWeight * (1f / batch);
    }

    @Override
    public float[] klDimensionWeights() {
        return klDimWeights;
    }

    @Override
    public Gemm gemm() {
        return gemm;
    }

    /** The current node's weight k (out x in, used transposed) packed for the GEMM, made on first use; null unless constantParams. */
    @Override
    public float[] packedWeight(int k, int in, int out) {
        if (!constantParams) {
            return null;
        }
        if (packedFrom != params) {
            packedWeights = new float[nodes.length][];
            packedWeights16 = new int[nodes.length][];
            packedFrom = params;
        }
        int id = node.id();
        float[] p = packedWeights[id];
        if (p == null) {
            p = Gemm.packB(true, in, out, params, paramOffsets[id][k], in);
            packedWeights[id] = p;
        }
        return p;
    }

    @Override
    public Gemv gemv() {
        return gemv;
    }

    @Override
    public boolean weightsBf16() {
        return bf16Weights;
    }

    /** The current node's weight k packed in bfloat16, made on first use; null unless the executor reads 16-bit weights. */
    @Override
    public int[] packedWeightBf16(int k, int in, int out) {
        if (!bf16Weights) {
            return null;
        }
        float[] p = packedWeight(k, in, out);
        int id = node.id();
        int[] h = packedWeights16[id];
        if (h == null) {
            h = Gemv.packBf16(p, in, out);
            packedWeights16[id] = h;
        }
        return h;
    }

    /** Below this many floats a row-parallel part runs on the calling thread. */
    private static final int PARALLEL_FLOATS = 1 << 15;
    private int rowPart;
    private int rowCount;
    private int rowShares;
    private final IntConsumer rowBody = this::rowShare;

    /** Runs the current op's row-parallel part on rows [0, rows) of width floats, on the threads when large. Allocates nothing. */
    @Override
    public void forRows(int part, int rows, int width) {
        rowPart = part;
        rowCount = rows;
        rowShares = (long) rows * width >= PARALLEL_FLOATS ? Math.min(parallelism.threads(), rows) : 1;
        parallelism.forEach(rowShares, rowBody);
    }

    private void rowShare(int t) {
        int r0 = (int) ((long) rowCount * t / rowShares), r1 = (int) ((long) rowCount * (t + 1) / rowShares);
        if (r1 > r0) {
            node.op().rowShare(node, this, rowPart, r0, r1);
        }
    }

    // ------------------------------------------------------------------ diagnosis

    /**
     * Where the first non-finite number (NaN or infinity) of a run appears.
     *
     * @param step     index of the plan step that produced it, or -1 when it was already in the
     *                 parameters or the input
     * @param backward true when a backward rule produced it
     * @param node     the node whose step produced it (or the input node)
     * @param tensor   what holds it: {@code "output"}, {@code "gradient of <node>"} or a parameter
     *                 or parameter-gradient name
     * @param index    its position in that tensor (row-major)
     */
    public record NonFinite(int step, boolean backward, Node node, String tensor, long index, float value) {
        /** One sentence: the op, the layer and the tensor. */
        public String describe() {
            String where = step < 0 ? "" : (backward ? "in the backward pass of " : "in the forward pass of ");
            return where + "layer " + node.name() + " (op " + node.op().opName() + "): " + tensor + " holds " + value
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
                    return new NonFinite(-1, false, n, "parameter " + p, at, params[ps.offset() + at]);
                }
            }
        }
        Node input = nodes[g.input];
        int at = plan.valueSlot()[g.input] < 0 ? -1 : firstNonFinite(value(g.input), 0, batch * input.width());
        if (at >= 0) {
            return new NonFinite(-1, false, input, "the input batch (row " + at / input.width() + ", column "
                    + at % input.width() + ")", at, value(g.input)[at]);
        }
        begin(params, grads, batch, seed, rngStream, klWeight);
        for (int k = 0; k < steps.length; k++) {
            Step s = steps[k];
            execute(s);
            Node n = nodes[s.node()];
            if (!s.backward()) {
                float[] y = value(n.id());
                at = firstNonFinite(y, 0, batch * n.width());
                if (at >= 0) {
                    return new NonFinite(k, false, n, "output (row " + at / n.width() + ", column " + at % n.width() + ")", at, y[at]);
                }
                continue;
            }
            for (String p : n.params()) {
                ParamSpec ps = g.param(p);
                at = firstNonFinite(grads, ps.offset(), ps.size());
                if (at >= 0) {
                    return new NonFinite(k, true, n, "gradient of parameter " + p, at, grads[ps.offset() + at]);
                }
            }
            for (int i = 0; i < n.inputs().size(); i++) {
                int in = n.input(i);
                if (s.receivesGradient(i)) {
                    float[] dx = gradient(in);
                    at = firstNonFinite(dx, 0, batch * nodes[in].width());
                    if (at >= 0) {
                        return new NonFinite(k, true, n, "gradient of its input " + nodes[in].name(), at, dx[at]);
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

    /** Puts {@code batch} rows of input (batch x width of node id) into that node's buffer. */
    public void load(int id, float[] rows, int offset, int batch) {
        int w = nodes[id].width();
        checkBatch(batch);
        if (offset < 0 || (long) offset + (long) batch * w > rows.length) {
            throw new IllegalArgumentException("input of " + batch + " x " + w + " floats at " + offset + " does not fit an array of " + rows.length);
        }
        System.arraycopy(rows, offset, value(id), 0, batch * w);
    }

    /** True when the plan contains a node of this op type (e.g. to know a plan samples z). */
    public boolean has(Class<? extends Op> op) {
        for (Step s : steps) {
            if (op.isInstance(nodes[s.node()].op())) {
                return true;
            }
        }
        return false;
    }
}
