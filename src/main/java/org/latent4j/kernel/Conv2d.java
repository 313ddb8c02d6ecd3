package org.latent4j.kernel;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2-D convolution and transposed convolution (PyTorch's {@code Conv2d} and {@code ConvTranspose2d}
 * without dilation or groups), forward and both gradients, as packed {@link Gemm} products.
 *
 * <p><b>Layout.</b> A sample is channels-first row-major, {@code (C, H, W)}, and a batch is
 * {@code batch} samples back to back: PyTorch's NCHW memory order, so flattening a sample gives
 * torch.flatten's order. Weights are in PyTorch's order: a convolution's
 * {@code (out, in, kh, kw)}, a transposed convolution's {@code (in, out, kh, kw)}; the bias has
 * {@code out} entries. The {@link ConvShape} says which of the two a call computes: each method
 * serves both.
 *
 * <p><b>Math.</b> For a convolution, per sample, channel o and output position (oy, ox),
 * <pre>  y[o, oy, ox] = b[o] + sum_{c, i, j} W[o, c, i, j] x[c, oy s - p + i, ox s - p + j]</pre>
 * (x is zero outside the image). As matrices: R, the im2row matrix of a sample (one row per output
 * position, one column per (c, i, j)), gives Y' = R W^T (positions x out), transposed into y;
 * the data gradient is dR = dY' W, scattered back into dx (col2im); the weight gradient is
 * dW = sum over samples of dY'^T R, and db the sum of dy over samples and positions. A transposed
 * convolution is the adjoint of {@link ConvShape#convolution()}: its forward is that
 * convolution's data gradient (plus its bias), its data gradient that convolution's forward, its
 * weight gradient that convolution's weight gradient with the roles of input and output
 * gradient swapped; the same code runs.
 *
 * <p><b>Chunks and threads.</b> Samples go through the GEMM in chunks of
 * {@link #chunkSamples} samples (a number that depends on the shape and the batch only, so that
 * the im2row matrix of a chunk stays near {@link #CHUNK_FLOATS} floats whatever the batch). Each
 * task of the {@link Parallelism} takes whole chunks, with its own single-threaded {@link Gemm} and
 * its own part of the caller's scratch ({@link #scratchSize}).
 *
 * <p><b>Determinism.</b> Results are bitwise the same for any thread count (and vector width):
 * every output element of the forward and of the data gradient is computed by one task, as one
 * GEMM dot product in k order (Gemm's contract) followed by additions in a fixed loop order, so
 * their bits depend neither on the threads nor on the chunks. The
 * weight gradient is a sum over samples: the chunks form {@link #WEIGHT_GROUPS} fixed groups
 * (a number that depends on the shape and batch only); group q adds its chunks' products (one GEMM
 * each, its depth the chunk's rows) into its own partial in chunk order, the groups run in
 * parallel in one region, and the partials are added into dW in group order,
 * {@code dW = ((G_0 + G_1) + G_2) + ...}, so the association does not depend on which thread made
 * which partial. db is summed in double in a fixed order (four running sums over the positions of
 * each sample in turn).
 *
 * <p>An instance holds one Gemm per thread (their packing buffers grow on demand) and is not
 * thread-safe; keep one per executing plan. The kernels allocate nothing else.
 */
public final class Conv2d {
    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();
    private static final VectorSpecies<Float> S4 = Simd.FLOAT_4;

    /**
     * Target floats of one chunk's im2row matrix and transposed output together. Fixed (not
     * derived from the machine or the threads) because the chunks decide how the weight gradient
     * is associated.
     */
    public static final int CHUNK_FLOATS = 1 << 17;

    /**
     * Groups the weight gradient's chunks are summed in: group g adds its chunks' products in
     * chunk order into its own partial, then the partials are added in group order. Fixed (not
     * derived from the threads) because the grouping decides the association; the threads take
     * whole groups, in one parallel region.
     */
    public static final int WEIGHT_GROUPS = 8;

    private static final int FORWARD = 0;
    private static final int DATA = 1;
    private static final int WEIGHTS = 2;
    private static final int CHANNEL_SUMS = 3;

    private final Parallelism parallelism;
    private final int chunkFloats;
    private final Gemm[] gemms;
    private final IntConsumer body = this::task;

    public Conv2d(Parallelism parallelism) {
        this(parallelism, CHUNK_FLOATS);
    }

    /** With another chunk target (the tests use small ones to cross chunk boundaries on small shapes). */
    Conv2d(Parallelism parallelism, int chunkFloats) {
        if (parallelism == null) {
            throw new IllegalArgumentException("parallelism must not be null (use Parallelism.serial())");
        }
        if (chunkFloats < 1) {
            throw new IllegalArgumentException("chunkFloats must be positive, got " + chunkFloats);
        }
        this.parallelism = parallelism;
        this.chunkFloats = chunkFloats;
        this.gemms = new Gemm[parallelism.threads()];
        for (int i = 0; i < gemms.length; i++) {
            gemms[i] = new Gemm(Parallelism.serial());
        }
    }

    public Parallelism parallelism() {
        return parallelism;
    }

    // ---------------------------------------------------------------- sizes

    /** Samples per GEMM chunk: depends on the shape and the batch only (never on the threads). */
    public static int chunkSamples(ConvShape shape, int batch) {
        return chunkSamples(shape, batch, CHUNK_FLOATS);
    }

    static int chunkSamples(ConvShape shape, int batch, int chunkFloats) {
        checkBatch(shape, batch);
        ConvShape g = shape.convolution();
        long perSample = (long) positions(g) * (depth(g) + g.outChannels());
        return (int) Math.max(1, Math.min(batch, chunkFloats / perSample));
    }

    /**
     * Floats of scratch every kernel of this class needs for {@code batch} samples of
     * {@code shape} on {@code threads} threads: per task a chunk's im2row matrix, its transposed
     * output and one partial weight gradient per group, and W packed once for the GEMM.
     */
    public static int scratchSize(ConvShape shape, int batch, int threads) {
        return scratchSize(shape, batch, threads, CHUNK_FLOATS);
    }

    static int scratchSize(ConvShape shape, int batch, int threads, int chunkFloats) {
        return scratchSizeOfTwin(shape.convolution(), batch, threads, chunkFloats);
    }

    /** {@link #scratchSize} for a shape given as its convolution twin ({@link ConvShape#convolution()}). */
    private static int scratchSizeOfTwin(ConvShape g, int batch, int threads, int chunkFloats) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        int chunk = chunkSamples(g, batch, chunkFloats);
        int chunks = ceilDiv(batch, chunk);
        int tasks = Math.min(threads, chunks);
        long need = packedWeightOffset(g, batch, threads, chunkFloats) + packedWeightSize(g);
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(g + ": scratch of " + need + " floats does not fit an array");
        }
        return (int) need;
    }

    /**
     * Where the packed weight sits in the scratch: after every task's buffers and the weight
     * gradient's partials. The forward and the data gradient pack W once per call there (shared,
     * read only, by every task) instead of once per chunk.
     */
    private static long packedWeightOffset(ConvShape g, int batch, int threads, int chunkFloats) {
        int chunk = chunkSamples(g, batch, chunkFloats);
        int chunks = ceilDiv(batch, chunk);
        int tasks = Math.min(threads, chunks);
        return (long) tasks * perTask(g, chunk) + (long) Math.min(WEIGHT_GROUPS, chunks) * g.outChannels() * depth(g);
    }

    /** Floats of W packed as the forward's operand W^T (depth x out) or the data gradient's W (out x depth), the larger. */
    private static int packedWeightSize(ConvShape g) {
        return Math.max(Gemm.packedBSize(depth(g), g.outChannels()), Gemm.packedBSize(g.outChannels(), depth(g)));
    }

    /** Each transposed shape's convolution twin, made once (ConvShape.convolution() makes a new record each call). */
    private final java.util.IdentityHashMap<ConvShape, ConvShape> twins = new java.util.IdentityHashMap<>();

    private ConvShape twin(ConvShape shape) {
        if (!shape.transposed()) {
            return shape;
        }
        ConvShape t = twins.get(shape);
        if (t == null) {
            t = shape.convolution();
            twins.put(shape, t);
        }
        return t;
    }

    /**
     * Floats of one task's buffers: a chunk's im2row matrix and its transposed output (or output
     * gradient), then (with padding) one zero-padded sample.
     */
    private static long perTask(ConvShape g, int chunk) {
        return (long) chunk * positions(g) * (depth(g) + g.outChannels()) + paddedSize(g);
    }

    /** Floats of one sample zero-padded on every side ((C, H + 2p, W + 2p)); 0 without padding. */
    private static long paddedSize(ConvShape g) {
        int p = g.padding();
        return p == 0 ? 0 : (long) g.inChannels() * (g.inHeight() + 2 * p) * (g.inWidth() + 2 * p);
    }

    /** Output positions of a convolution geometry. */
    private static int positions(ConvShape g) {
        return g.outHeight() * g.outWidth();
    }

    /** Columns of a convolution's im2row matrix: in x kh x kw. */
    private static int depth(ConvShape g) {
        return g.inChannels() * g.kernelHeight() * g.kernelWidth();
    }

    // ---------------------------------------------------------------- the three passes

    /**
     * Forward: y = conv(x, W) + b, or for a transposed shape y = conv_transpose(x, W) + b.
     * Writes y (batch x outSize at yOff) only; bias may be null (no bias).
     *
     * @param scratch at least {@link #scratchSize}(shape, batch, threads) floats; overwritten
     */
    public void forward(float[] y, int yOff, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                        ConvShape shape, int batch, float[] scratch) {
        checkCall(shape, batch, scratch, "y", y, yOff, shape.outSize(), "x", x, xOff, shape.inSize(), w, wOff);
        if (bias != null) {
            Activations.checkRange("bias", bias, biasOff, shape.outChannels());
        }
        if (shape.transposed()) {
            run(DATA, twin(shape), batch, y, yOff, x, xOff, w, wOff, bias, biasOff, false, scratch);
        } else {
            run(FORWARD, shape, batch, y, yOff, x, xOff, w, wOff, bias, biasOff, false, scratch);
        }
    }

    /**
     * Data gradient: dx (+)= dL/dx for the output gradient dy (batch x outSize); overwrites dx
     * (batch x inSize) unless {@code accumulate}, which adds to it. Reads W, writes dx only.
     */
    public void backwardData(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, float[] w, int wOff,
                             ConvShape shape, int batch, float[] scratch) {
        checkCall(shape, batch, scratch, "dx", dx, dxOff, shape.inSize(), "dy", dy, dyOff, shape.outSize(), w, wOff);
        if (shape.transposed()) {
            run(FORWARD, twin(shape), batch, dx, dxOff, dy, dyOff, w, wOff, null, 0, accumulate, scratch);
        } else {
            run(DATA, shape, batch, dx, dxOff, dy, dyOff, w, wOff, null, 0, accumulate, scratch);
        }
    }

    /**
     * Weight and bias gradients, overwritten: dW = dL/dW (weightSize floats at dwOff, the
     * weight's layout) and db[o] = sum over samples and positions of dy[o] (outChannels floats;
     * db may be null). x is the forward's input, dy the output gradient.
     */
    public void backwardWeights(float[] dw, int dwOff, float[] db, int dbOff, float[] x, int xOff, float[] dy, int dyOff,
                                ConvShape shape, int batch, float[] scratch) {
        checkCall(shape, batch, scratch, "x", x, xOff, shape.inSize(), "dy", dy, dyOff, shape.outSize(), dw, dwOff);
        if (db != null) {
            Activations.checkRange("db", db, dbOff, shape.outChannels());
        }
        ConvShape g = twin(shape);
        if (shape.transposed()) {
            // The convolution twin's input is this layer's output gradient, its output gradient this layer's input.
            run(WEIGHTS, g, batch, dw, dwOff, dy, dyOff, x, xOff, null, 0, false, scratch);
        } else {
            run(WEIGHTS, g, batch, dw, dwOff, x, xOff, dy, dyOff, null, 0, false, scratch);
        }
        if (db != null) {
            channelSums(db, dbOff, dy, dyOff, batch, shape.outChannels(), shape.outHeight() * shape.outWidth());
        }
    }

    // ---------------------------------------------------------------- the call's state (valid only inside run)

    private int op;
    private ConvShape g;
    private int batch;
    private int chunk;
    private int chunks;
    private int tasks;
    private int groups;
    private int partials;
    private int perTask;
    private float[] out;
    private int outOff;
    private float[] in;
    private int inOff;
    private float[] w;
    private int wOff;
    private float[] in2;
    private int in2Off;
    private float[] bias;
    private int biasOff;
    private boolean accumulate;
    private float[] scratch;
    private int plane;
    private int channels;
    private int packedW;

    /**
     * FORWARD: out = conv_g(in) (+ bias | + out); DATA: out = conv_g^T(in) (+ bias | + out);
     * WEIGHTS: out = dW of conv_g for input in and output gradient in2 (passed as w).
     */
    private void run(int op, ConvShape g, int batch, float[] out, int outOff, float[] in, int inOff, float[] w, int wOff,
                     float[] bias, int biasOff, boolean accumulate, float[] scratch) {
        this.op = op;
        this.g = g;
        this.batch = batch;
        this.chunk = chunkSamples(g, batch, chunkFloats);
        this.chunks = ceilDiv(batch, chunk);
        this.perTask = (int) perTask(g, chunk);
        this.out = out;
        this.outOff = outOff;
        this.in = in;
        this.inOff = inOff;
        this.bias = bias;
        this.biasOff = biasOff;
        this.accumulate = accumulate;
        this.scratch = scratch;
        if (op == WEIGHTS) {
            this.in2 = w;
            this.in2Off = wOff;
        } else {
            this.w = w;
            this.wOff = wOff;
        }
        try {
            int threads = parallelism.threads();
            if (op != WEIGHTS) {
                packedW = (int) packedWeightOffset(g, batch, threads, chunkFloats);
                if (op == FORWARD) {
                    Gemm.packB(scratch, packedW, true, depth(g), g.outChannels(), w, wOff, depth(g));       // B = W^T
                } else {
                    Gemm.packB(scratch, packedW, false, g.outChannels(), depth(g), w, wOff, depth(g));      // B = W
                }
                tasks = Math.min(threads, chunks);
                parallelism.forEach(tasks, body);
                return;
            }
            // Fixed groups of chunks, each summed in chunk order into its own partial (one parallel
            // region), then the partials added into dW in group order on this thread.
            int weights = g.outChannels() * depth(g);
            groups = Math.min(WEIGHT_GROUPS, chunks);
            partials = Math.min(threads, chunks) * perTask;   // after every task's buffers (scratchSize's layout)
            tasks = Math.min(threads, groups);
            parallelism.forEach(tasks, body);
            System.arraycopy(scratch, partials, out, outOff, weights);
            for (int q = 1; q < groups; q++) {
                addInto(out, outOff, scratch, partials + q * weights, weights);
            }
        } finally {
            this.out = null;
            this.in = null;
            this.in2 = null;
            this.w = null;
            this.bias = null;
            this.scratch = null;
        }
    }

    private void task(int t) {
        switch (op) {
            case FORWARD -> {
                for (int c = t; c < chunks; c += tasks) {
                    forwardChunk(t, c);
                }
            }
            case DATA -> {
                for (int c = t; c < chunks; c += tasks) {
                    dataChunk(t, c);
                }
            }
            case WEIGHTS -> {
                for (int q = t; q < groups; q += tasks) {
                    int first = (int) ((long) chunks * q / groups), last = (int) ((long) chunks * (q + 1) / groups);
                    for (int c = first; c < last; c++) {
                        weightChunk(t, c, q, c > first);
                    }
                }
            }
            case CHANNEL_SUMS -> {
                int c0 = (int) ((long) channels * t / tasks), c1 = (int) ((long) channels * (t + 1) / tasks);
                for (int c = c0; c < c1; c++) {
                    // Four running sums (element i of a plane goes to sum i mod 4), so that the adds
                    // do not wait on each other; a fixed order all the same.
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int b = 0; b < batch; b++) {
                        int i = inOff + (b * channels + c) * plane, end = i + plane;
                        for (; i + 3 < end; i += 4) {
                            s0 += in[i];
                            s1 += in[i + 1];
                            s2 += in[i + 2];
                            s3 += in[i + 3];
                        }
                        if (i < end) {
                            s0 += in[i];
                        }
                        if (i + 1 < end) {
                            s1 += in[i + 1];
                        }
                        if (i + 2 < end) {
                            s2 += in[i + 2];
                        }
                    }
                    out[outOff + c] = (float) ((s0 + s1) + (s2 + s3));
                }
            }
            default -> throw new IllegalStateException("op " + op);
        }
    }

    /** One chunk of the forward: im2row, Y' = R W^T, then y = Y'^T (+ bias | + y). */
    private void forwardChunk(int t, int c) {
        int s0 = c * chunk, n = Math.min(batch, s0 + chunk) - s0;
        int p = positions(g), k = depth(g), oc = g.outChannels();
        int inSize = g.inSize(), outSize = g.outSize();
        float[] sc = scratch;
        int rOff = t * perTask, yrOff = rOff + chunk * p * k, padOff = yrOff + chunk * p * oc;
        for (int s = 0; s < n; s++) {
            im2row(sc, rOff + s * p * k, in, inOff + (s0 + s) * inSize, g, sc, padOff);
        }
        gemms[t].gemmPacked(sc, yrOff, oc, false, n * p, oc, k, 1f, sc, rOff, k, sc, packedW, 0f);
        for (int s = 0; s < n; s++) {
            fromRows(out, outOff + (s0 + s) * outSize, sc, yrOff + s * p * oc, oc, p, bias, biasOff, accumulate);
        }
    }

    /** One chunk of the data gradient: dY' = dy^T, dR = dY' W, then dx = col2im(dR) (+ bias | + dx). */
    private void dataChunk(int t, int c) {
        int s0 = c * chunk, n = Math.min(batch, s0 + chunk) - s0;
        int p = positions(g), k = depth(g), oc = g.outChannels();
        int inSize = g.inSize(), outSize = g.outSize();
        float[] sc = scratch;
        int drOff = t * perTask, dyrOff = drOff + chunk * p * k, padOff = dyrOff + chunk * p * oc;
        for (int s = 0; s < n; s++) {
            toRows(sc, dyrOff + s * p * oc, in, inOff + (s0 + s) * outSize, oc, p);
        }
        gemms[t].gemmPacked(sc, drOff, k, false, n * p, k, oc, 1f, sc, dyrOff, oc, sc, packedW, 0f);
        int hw = g.inHeight() * g.inWidth();
        for (int s = 0; s < n; s++) {
            int dx = outOff + (s0 + s) * inSize;
            if (!accumulate) {
                for (int ch = 0; ch < g.inChannels(); ch++) {
                    java.util.Arrays.fill(out, dx + ch * hw, dx + (ch + 1) * hw, bias == null ? 0f : bias[biasOff + ch]);
                }
            }
            row2imAdd(out, dx, sc, drOff + s * p * k, g, sc, padOff);
        }
    }

    /** One chunk's weight gradient: R = im2row(x), dY' = dy^T, P_group (+)= dY'^T R (added after the group's first chunk). */
    private void weightChunk(int t, int c, int group, boolean add) {
        int s0 = c * chunk, n = Math.min(batch, s0 + chunk) - s0;
        int p = positions(g), k = depth(g), oc = g.outChannels();
        int inSize = g.inSize(), outSize = g.outSize();
        float[] sc = scratch;
        int rOff = t * perTask, dyrOff = rOff + chunk * p * k, partOff = partials + group * oc * k, padOff = dyrOff + chunk * p * oc;
        for (int s = 0; s < n; s++) {
            im2row(sc, rOff + s * p * k, in, inOff + (s0 + s) * inSize, g, sc, padOff);
            toRows(sc, dyrOff + s * p * oc, in2, in2Off + (s0 + s) * outSize, oc, p);
        }
        gemms[t].gemm(sc, partOff, k, true, false, oc, k, n * p, 1f, sc, dyrOff, oc, sc, rOff, k, add ? 1f : 0f);
    }

    /** out[c] = sum over samples and the plane of x[b, c, .], in double in a fixed order (the CHANNEL_SUMS case of task). */
    private void channelSums(float[] out, int outOff, float[] x, int xOff, int batch, int channels, int plane) {
        this.op = CHANNEL_SUMS;
        this.out = out;
        this.outOff = outOff;
        this.in = x;
        this.inOff = xOff;
        this.batch = batch;
        this.channels = channels;
        this.plane = plane;
        try {
            tasks = Math.min(parallelism.threads(), channels);
            parallelism.forEach(tasks, body);
        } finally {
            this.out = null;
            this.in = null;
        }
    }

    // ---------------------------------------------------------------- im2row, col2im, transposes

    /**
     * The im2row matrix of one sample: r[rOff + q K + (c kh + i) kw + j] = x[c, oy s - p + i, ox s - p + j]
     * (0 outside the image) for output position q = oy OW + ox, K = C kh kw. With padding, the
     * sample is first copied zero-padded into {@code pad} at {@code padOff} ({@link #paddedSize}
     * floats, overwritten), so that every window lies inside its source and is copied without
     * bounds checks per element.
     */
    static void im2row(float[] r, int rOff, float[] x, int xOff, ConvShape g, float[] pad, int padOff) {
        int p = g.padding(), h = g.inHeight(), wd = g.inWidth();
        if (p > 0) {
            padInto(pad, padOff, x, xOff, g.inChannels(), h, wd, p);
            windowsToRows(r, rOff, pad, padOff, h + 2 * p, wd + 2 * p, g);
        } else {
            windowsToRows(r, rOff, x, xOff, h, wd, g);
        }
    }

    /** dst = src (C, H, W) with p zeros on every side: (C, H + 2p, W + 2p). */
    static void padInto(float[] dst, int dOff, float[] src, int sOff, int ch, int h, int wd, int p) {
        int hp = h + 2 * p, wp = wd + 2 * p;
        for (int c = 0; c < ch; c++) {
            int plane = dOff + c * hp * wp;
            java.util.Arrays.fill(dst, plane, plane + p * wp + p, 0f);   // the top rows and the first row's left border
            for (int y = 0; y < h; y++) {
                int row = plane + (y + p) * wp + p;
                System.arraycopy(src, sOff + (c * h + y) * wd, dst, row, wd);
                // This row's right border and the next row's left border (after the last row: the bottom rows).
                java.util.Arrays.fill(dst, row + wd, y == h - 1 ? plane + hp * wp : row + wd + 2 * p, 0f);
            }
        }
    }

    /** dst (C, H, W) = the inside of src (C, H + 2p, W + 2p). */
    static void cropFrom(float[] dst, int dOff, float[] src, int sOff, int ch, int h, int wd, int p) {
        int hp = h + 2 * p, wp = wd + 2 * p;
        for (int c = 0; c < ch; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(src, sOff + (c * hp + y + p) * wp + p, dst, dOff + (c * h + y) * wd, wd);
            }
        }
    }

    /** im2row's copies from a source (C, sh, sw) that holds every window: window (oy, ox) starts at (oy s, ox s). */
    private static void windowsToRows(float[] r, int rOff, float[] x, int xOff, int sh, int sw, ConvShape g) {
        int ch = g.inChannels(), kh = g.kernelHeight(), kw = g.kernelWidth();
        int st = g.stride(), oh = g.outHeight(), ow = g.outWidth();
        int d = rOff;
        VectorMask<Float> m = S.indexInRange(0, Math.min(kw, L));
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int at = xOff + oy * st * sw + ox * st;
                if (kw == 4) {
                    // A 4-wide kernel row (W2's layers): one unmasked 128-bit load and store per (c, i).
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0, src = at + c * sh * sw; i < kh; i++, d += 4, src += sw) {
                            FloatVector.fromArray(S4, x, src).intoArray(r, d);
                        }
                    }
                } else if (kw <= L) {
                    // A kernel row fits one vector: one masked load and store per (c, i).
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0, src = at + c * sh * sw; i < kh; i++, d += kw, src += sw) {
                            FloatVector.fromArray(S, x, src, m).intoArray(r, d, m);
                        }
                    }
                } else {
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0, src = at + c * sh * sw; i < kh; i++, d += kw, src += sw) {
                            System.arraycopy(x, src, r, d, kw);
                        }
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2row}: dx[c, oy s - p + i, ox s - p + j] += r[...], positions then
     * (c, i, j) in order. With padding, dx is copied into the zero-padded buffer {@code pad}
     * (overwritten), the adds go there (those in the border are dropped), and its inside is
     * copied back: the same adds in the same order as directly into dx.
     */
    static void row2imAdd(float[] dx, int dxOff, float[] r, int rOff, ConvShape g, float[] pad, int padOff) {
        int p = g.padding(), h = g.inHeight(), wd = g.inWidth();
        if (p > 0) {
            padInto(pad, padOff, dx, dxOff, g.inChannels(), h, wd, p);
            rowsToWindowsAdd(pad, padOff, h + 2 * p, wd + 2 * p, r, rOff, g);
            cropFrom(dx, dxOff, pad, padOff, g.inChannels(), h, wd, p);
        } else {
            rowsToWindowsAdd(dx, dxOff, h, wd, r, rOff, g);
        }
    }

    /** row2imAdd's adds into a destination (C, sh, sw) that holds every window. */
    private static void rowsToWindowsAdd(float[] dx, int dxOff, int sh, int sw, float[] r, int rOff, ConvShape g) {
        int ch = g.inChannels(), kh = g.kernelHeight(), kw = g.kernelWidth();
        int st = g.stride(), oh = g.outHeight(), ow = g.outWidth();
        int d = rOff;
        VectorMask<Float> m = S.indexInRange(0, Math.min(kw, L));
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int at = dxOff + oy * st * sw + ox * st;
                if (kw == 4) {
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0, dst = at + c * sh * sw; i < kh; i++, d += 4, dst += sw) {
                            FloatVector.fromArray(S4, dx, dst).add(FloatVector.fromArray(S4, r, d)).intoArray(dx, dst);
                        }
                    }
                } else if (kw <= L) {
                    // Masked load, add, store per (c, i): the same adds, in the same order, as one at a time.
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0, dst = at + c * sh * sw; i < kh; i++, d += kw, dst += sw) {
                            FloatVector.fromArray(S, dx, dst, m).add(FloatVector.fromArray(S, r, d, m)).intoArray(dx, dst, m);
                        }
                    }
                } else {
                    for (int c = 0; c < ch; c++) {
                        for (int i = 0, dst = at + c * sh * sw; i < kh; i++, d += kw, dst += sw) {
                            for (int j = 0; j < kw; j++) {
                                dx[dst + j] += r[d + j];
                            }
                        }
                    }
                }
            }
        }
    }

    /** dst (positions x channels) = src (channels x positions)^T. */
    static void toRows(float[] dst, int dOff, float[] src, int sOff, int channels, int positions) {
        for (int c = 0; c < channels; c++) {
            int s = sOff + c * positions;
            for (int q = 0, d = dOff + c; q < positions; q++, d += channels) {
                dst[d] = src[s + q];
            }
        }
    }

    /** dst (channels x positions) = src^T + bias[c] (bias non-null), or dst += src^T (accumulate), or dst = src^T. */
    static void fromRows(float[] dst, int dOff, float[] src, int sOff, int channels, int positions, float[] bias, int biasOff,
                         boolean accumulate) {
        for (int c = 0; c < channels; c++) {
            int d = dOff + c * positions;
            if (bias != null) {
                float b = bias[biasOff + c];
                for (int q = 0, s = sOff + c; q < positions; q++, s += channels) {
                    dst[d + q] = accumulate ? dst[d + q] + (src[s] + b) : src[s] + b;
                }
            } else if (accumulate) {
                for (int q = 0, s = sOff + c; q < positions; q++, s += channels) {
                    dst[d + q] += src[s];
                }
            } else {
                for (int q = 0, s = sOff + c; q < positions; q++, s += channels) {
                    dst[d + q] = src[s];
                }
            }
        }
    }

    /** dst[dOff .. +n) += src[sOff .. +n). */
    private static void addInto(float[] dst, int dOff, float[] src, int sOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, dst, dOff + i).add(FloatVector.fromArray(S, src, sOff + i)).intoArray(dst, dOff + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, dst, dOff + i, m).add(FloatVector.fromArray(S, src, sOff + i, m)).intoArray(dst, dOff + i, m);
        }
    }

    // ---------------------------------------------------------------- checks

    private static void checkBatch(ConvShape shape, int batch) {
        if (shape == null) {
            throw new IllegalArgumentException("conv: shape must not be null");
        }
        if (batch < 1) {
            throw new IllegalArgumentException(shape + ": batch must be at least 1, got " + batch);
        }
    }

    private void checkCall(ConvShape shape, int batch, float[] scratch, String aName, float[] a, int aOff, int aSize,
                           String bName, float[] b, int bOff, int bSize, float[] w, int wOff) {
        checkBatch(shape, batch);
        long na = (long) batch * aSize, nb = (long) batch * bSize;
        if (na > Integer.MAX_VALUE || nb > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(shape + ": a batch of " + batch + " does not fit one array");
        }
        Activations.checkRange(aName, a, aOff, na);
        Activations.checkRange(bName, b, bOff, nb);
        Activations.checkRange("weight", w, wOff, shape.weightSize());
        int need = scratchSizeOfTwin(twin(shape), batch, parallelism.threads(), chunkFloats);
        if (scratch == null || scratch.length < need) {
            throw new IllegalArgumentException(shape + ": scratch has " + (scratch == null ? 0 : scratch.length) + " floats but "
                    + batch + " samples on " + parallelism.threads() + " thread(s) need " + need + " (Conv2d.scratchSize)");
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
