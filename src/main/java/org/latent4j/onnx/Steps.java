package org.latent4j.onnx;

import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Activations;
import org.latent4j.kernel.Conv2d;
import org.latent4j.kernel.ConvShape;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Gemv;

/**
 * The steps an ONNX plan runs, one per operator that computes something (Reshape, Flatten and
 * Identity only rename a buffer). A step reads its operands from the plan's buffers (by slot) or
 * from constants it holds, and writes its output buffers; the dims it is given may hold
 * {@link Shapes#BATCH}, resolved by the batch size of the call. The same steps fold constants at
 * load time (every operand a constant, no BATCH in the dims).
 *
 * <p>Gemm, MatMul, Conv and ConvTranspose run on the engine's kernels ({@link Gemm} with the weight
 * packed once, {@link Conv2d}); the activations on {@link Activations} (the engine's Vector API
 * kernels). The element-wise arithmetic with broadcasting, BatchNormalization at inference, Clip,
 * MaxPool and AveragePool, nearest Resize, Expand and the copies (Concat, Split, Slice) are plain
 * loops on flat arrays here: the engine's graph has no
 * broadcasting arithmetic and its Concat joins feature vectors only.
 */
final class Steps {
    private Steps() {}

    /** What the steps of one plan share: the engine's kernels and their scratch. Not thread-safe. */
    static final class Workspace {
        final Gemm gemm;
        final Conv2d conv;
        final int threads;
        /** The same kernels on the calling thread, for work too small to split (the bits are the same either way). */
        final Gemm serialGemm = new Gemm(org.latent4j.kernel.Parallelism.serial());
        final Conv2d serialConv = new Conv2d(org.latent4j.kernel.Parallelism.serial());
        private float[] scratch = new float[0];
        private float[] full = new float[0];

        /**
         * One-row products; on more than one thread with a team of helpers that spin between
         * calls (as ONNX Runtime's intra-op threads do), since a pool's worker takes longer to wake
         * than such a product takes.
         */
        final Gemv gemv;

        Workspace(org.latent4j.kernel.Parallelism parallelism) {
            gemm = new Gemm(parallelism);
            conv = new Conv2d(parallelism);
            threads = parallelism.threads();
            gemv = new Gemv(threads > 1 ? new org.latent4j.kernel.SpinTeam(threads) : null);
        }

        float[] scratch(int floats) {
            if (scratch.length < floats) {
                scratch = new float[floats];
            }
            return scratch;
        }

        /** A second scratch (a transposed convolution's uncropped output). */
        float[] full(int floats) {
            if (full.length < floats) {
                full = new float[floats];
            }
            return full;
        }
    }

    /** One step of a plan. */
    interface Step {
        /** Reads its operands, writes its outputs (buffers of {@code slots}, large enough for {@code batch}). */
        void run(float[][] slots, int batch, Workspace w);
    }

    /** An operand: a buffer of the plan ({@code slot}) or a constant. */
    record Operand(int slot, float[] constant) {
        static Operand of(int slot) {
            return new Operand(slot, null);
        }

        static Operand of(float[] constant) {
            return new Operand(-1, constant);
        }

        float[] get(float[][] slots) {
            return constant != null ? constant : slots[slot];
        }
    }

    // ------------------------------------------------------------------ products

    /**
     * Products of fewer rows, and convolutions of fewer samples, run on the calling thread: on 2
     * threads a batch of one through the 784-512-256-32 VAE took 495 us against 216 us on one
     * (benchmarks/compare-ort), the split costing more than it saves. The kernels give the same
     * bits on any number of threads, so this changes the time only.
     */
    static final int SPLIT_ROWS = 16;

    /**
     * y = act(alpha x op(B) + bias) for x of dims (..., k), viewed as rows x k, and a constant B
     * packed once ({@link Gemm#packB}); bias (n values, already multiplied by beta) may be null.
     * Gemm, and MatMul by a constant matrix.
     */
    record Product(Operand x, int[] xDims, int k, int n, float alpha, float[] packed, float[] bias, Activation act, float actParam,
                   int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int rows = Shapes.count(xDims, batch) / k;
            float[] y = slots[out];
            if (rows == 1) {   // bitwise the GEMM's row, without its panel of MR rows
                w.gemv.dense(y, 0, x.get(slots), 0, k, n, alpha, packed, null, 0, bias, 0, act, actParam);
                return;
            }
            Gemm g = rows < SPLIT_ROWS ? w.serialGemm : w.gemm;
            g.gemmPacked(y, 0, n, false, rows, n, k, alpha, x.get(slots), 0, k, packed, 0f);
            if (bias != null || act != Activation.IDENTITY) {
                Activations.biasForward(act, actParam, y, 0, y, 0, bias, 0, rows, n);
            }
        }
    }

    /**
     * A 2-D convolution or transposed convolution of (batch, C, H, W) by the engine's
     * {@link Conv2d}, then an optional activation in place. A transposed convolution whose pads are
     * not one number or that has an output padding runs unpadded into scratch and is cropped:
     * output row r of the result is row r + padTop of the unpadded one (the bias alone where that
     * row is past the unpadded output), and likewise for columns.
     */
    record Convolution(Operand x, int[] xDims, float[] weight, float[] bias, ConvShape geometry, boolean crop, int padTop, int padLeft,
                       int outHeight, int outWidth, Activation act, float actParam, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int samples = xDims[0] == Shapes.BATCH ? batch : xDims[0];
            boolean serial = samples < SPLIT_ROWS;
            Conv2d conv = serial ? w.serialConv : w.conv;
            float[] scratch = w.scratch(Conv2d.scratchSize(geometry, samples, serial ? 1 : w.threads));
            float[] y = slots[out];
            int outChannels = geometry.outChannels();
            if (!crop) {
                conv.forward(y, 0, x.get(slots), 0, weight, 0, bias, 0, geometry, samples, scratch);
            } else {
                int fh = geometry.outHeight(), fw = geometry.outWidth();
                float[] full = w.full(samples * geometry.outSize());
                conv.forward(full, 0, x.get(slots), 0, weight, 0, bias, 0, geometry, samples, scratch);
                int o = 0;
                for (int s = 0; s < samples; s++) {
                    for (int c = 0; c < outChannels; c++) {
                        float b = bias == null ? 0f : bias[c];
                        int plane = (s * outChannels + c) * fh * fw;
                        for (int r = 0; r < outHeight; r++) {
                            int fr = r + padTop;
                            for (int col = 0; col < outWidth; col++) {
                                int fc = col + padLeft;
                                y[o++] = fr < fh && fc < fw ? full[plane + fr * fw + fc] : b;
                            }
                        }
                    }
                }
            }
            if (act != Activation.IDENTITY) {
                Activations.forward(act, actParam, y, 0, y, 0, samples * outChannels * outHeight * outWidth);
            }
        }
    }

    // ------------------------------------------------------------------ element-wise

    /** An activation of the engine (Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softplus, Exp, Log); in place when out is x's buffer. */
    record Activate(Operand x, int[] dims, Activation act, float actParam, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            Activations.forward(act, actParam, slots[out], 0, x.get(slots), 0, Shapes.count(dims, batch));
        }
    }

    /** y = x scale[c] + shift[c] along axis 1 (BatchNormalization at inference, folded into one scale and shift per channel). */
    record ChannelAffine(Operand x, int[] dims, float[] scale, float[] shift, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int channels = dims[1];
            int plane = 1;
            for (int i = 2; i < dims.length; i++) {
                plane *= dims[i];
            }
            int samples = Shapes.count(dims, batch) / (channels * plane);
            float[] in = x.get(slots), y = slots[out];
            int o = 0;
            for (int s = 0; s < samples; s++) {
                for (int c = 0; c < channels; c++) {
                    float a = scale[c], b = shift[c];
                    for (int i = 0; i < plane; i++, o++) {
                        y[o] = in[o] * a + b;
                    }
                }
            }
        }
    }

    /** The four arithmetic operators. */
    enum Arithmetic { ADD, SUB, MUL, DIV }

    /**
     * y = a op b with ONNX's multidirectional broadcasting. Three fast cases (same size; one side a
     * repeated block of the other's trailing values, e.g. a bias row or a scalar) and the general
     * strided one.
     */
    record Binary(Arithmetic op, Operand a, int[] aDims, Operand b, int[] bDims, int[] outDims, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int[] o = Shapes.resolve(outDims, batch), ad = Shapes.resolve(aDims, batch), bd = Shapes.resolve(bDims, batch);
            int n = Shapes.count(o, batch), na = Shapes.count(ad, batch), nb = Shapes.count(bd, batch);
            float[] x = a.get(slots), z = b.get(slots), y = slots[out];
            if (na == n && trailing(bd, o)) {
                repeatedB(op, y, x, z, n, nb);
            } else if (nb == n && trailing(ad, o)) {
                repeatedA(op, y, x, z, n, na);
            } else {
                general(op, y, x, ad, z, bd, o);
            }
        }

        /** Whether d (right-aligned, leading ones dropped) equals the trailing dims of out: its values repeat as one block. */
        static boolean trailing(int[] d, int[] out) {
            int first = 0;
            while (first < d.length && d[first] == 1) {
                first++;
            }
            int len = d.length - first;
            for (int i = 0; i < len; i++) {
                if (d[first + i] != out[out.length - len + i]) {
                    return false;
                }
            }
            return true;
        }

        /** y[i] = x[i] op z[i mod nb]. */
        static void repeatedB(Arithmetic op, float[] y, float[] x, float[] z, int n, int nb) {
            for (int s = 0; s < n; s += nb) {
                switch (op) {
                    case ADD -> { for (int j = 0; j < nb; j++) { y[s + j] = x[s + j] + z[j]; } }
                    case SUB -> { for (int j = 0; j < nb; j++) { y[s + j] = x[s + j] - z[j]; } }
                    case MUL -> { for (int j = 0; j < nb; j++) { y[s + j] = x[s + j] * z[j]; } }
                    case DIV -> { for (int j = 0; j < nb; j++) { y[s + j] = x[s + j] / z[j]; } }
                }
            }
        }

        /** y[i] = x[i mod na] op z[i]. */
        static void repeatedA(Arithmetic op, float[] y, float[] x, float[] z, int n, int na) {
            for (int s = 0; s < n; s += na) {
                switch (op) {
                    case ADD -> { for (int j = 0; j < na; j++) { y[s + j] = x[j] + z[s + j]; } }
                    case SUB -> { for (int j = 0; j < na; j++) { y[s + j] = x[j] - z[s + j]; } }
                    case MUL -> { for (int j = 0; j < na; j++) { y[s + j] = x[j] * z[s + j]; } }
                    case DIV -> { for (int j = 0; j < na; j++) { y[s + j] = x[j] / z[s + j]; } }
                }
            }
        }

        static void general(Arithmetic op, float[] y, float[] x, int[] ad, float[] z, int[] bd, int[] o) {
            int rank = o.length;
            int[] sa = broadcastStrides(ad, rank), sb = broadcastStrides(bd, rank);
            int[] idx = new int[rank];
            int n = 1;
            for (int d : o) {
                n *= d;
            }
            int ia = 0, ib = 0;
            for (int i = 0; i < n; i++) {
                float u = x[ia], v = z[ib];
                y[i] = switch (op) {
                    case ADD -> u + v;
                    case SUB -> u - v;
                    case MUL -> u * v;
                    case DIV -> u / v;
                };
                for (int k = rank - 1; k >= 0; k--) {   // the odometer: next index of the output
                    idx[k]++;
                    ia += sa[k];
                    ib += sb[k];
                    if (idx[k] < o[k]) {
                        break;
                    }
                    ia -= sa[k] * o[k];
                    ib -= sb[k] * o[k];
                    idx[k] = 0;
                }
            }
        }

        /** Strides of d right-aligned in a rank-{@code rank} output, 0 along the dimensions it is broadcast in. */
        static int[] broadcastStrides(int[] d, int rank) {
            int[] s = new int[rank];
            int stride = 1;
            for (int i = d.length - 1; i >= 0; i--) {
                s[rank - d.length + i] = d[i] == 1 ? 0 : stride;
                stride *= d[i];
            }
            return s;
        }
    }

    // ------------------------------------------------------------------ copies

    /**
     * Concat along {@code axis}: per outer index (the product of the dims before the axis), each
     * input's block of {@code blocks[i]} values in turn.
     */
    record Concat(Operand[] inputs, int[][] dims, int axis, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int outer = outer(Shapes.resolve(dims[0], batch), axis);
            float[] y = slots[out];
            int o = 0;
            int[] blocks = new int[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                blocks[i] = Shapes.count(dims[i], batch) / outer;
            }
            for (int s = 0; s < outer; s++) {
                for (int i = 0; i < inputs.length; i++) {
                    System.arraycopy(inputs[i].get(slots), s * blocks[i], y, o, blocks[i]);
                    o += blocks[i];
                }
            }
        }
    }

    static int outer(int[] resolved, int axis) {
        int n = 1;
        for (int i = 0; i < axis; i++) {
            n *= resolved[i];
        }
        return n;
    }

    /** Split along {@code axis} into outputs of sizes[i] entries along it: the inverse of {@link Concat}. */
    record Split(Operand x, int[] dims, int axis, int[] sizes, int[] outs) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int[] r = Shapes.resolve(dims, batch);
            int outer = outer(r, axis), inner = 1;
            for (int i = axis + 1; i < r.length; i++) {
                inner *= r[i];
            }
            float[] in = x.get(slots);
            int o = 0;
            for (int s = 0; s < outer; s++) {
                for (int i = 0; i < outs.length; i++) {
                    int block = sizes[i] * inner;
                    System.arraycopy(in, o, slots[outs[i]], s * block, block);
                    o += block;
                }
            }
        }
    }

    /** Slice: output index j along dimension k reads input index starts[k] + j steps[k] (every dimension given). */
    record Slice(Operand x, int[] dims, int[] starts, int[] steps, int[] outDims, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int[] r = Shapes.resolve(dims, batch), o = Shapes.resolve(outDims, batch);
            int rank = r.length;
            int[] stride = Shapes.strides(r);
            float[] in = x.get(slots), y = slots[out];
            int n = Shapes.count(o, batch);
            int[] idx = new int[rank];
            int base = 0;
            for (int k = 0; k < rank; k++) {
                base += starts[k] * stride[k];
            }
            int at = base;
            for (int i = 0; i < n; i++) {
                y[i] = in[at];
                for (int k = rank - 1; k >= 0; k--) {
                    idx[k]++;
                    at += steps[k] * stride[k];
                    if (idx[k] < o[k]) {
                        break;
                    }
                    at -= steps[k] * stride[k] * o[k];
                    idx[k] = 0;
                }
            }
        }
    }

    // ------------------------------------------------------------------ clip, pooling, resize, expand

    /** y = min(max(x, min), max) element-wise (Clip; NaN stays NaN). */
    record Clip(Operand x, int[] dims, float min, float max, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            float[] in = x.get(slots), y = slots[out];
            int n = Shapes.count(dims, batch);
            for (int i = 0; i < n; i++) {
                y[i] = Math.min(Math.max(in[i], min), max);
            }
        }
    }

    /**
     * MaxPool or AveragePool of (batch, C, H, W) in kernelH x kernelW windows moved by stride,
     * with pad zeros-or-nothing on every side: output (r, c) covers input rows r strideH - pad ...
     * + kernelH - 1 (and likewise columns), positions outside the input skipped (max), or counted
     * as zeros only when {@code countPad} (average; ONNX's count_include_pad).
     */
    record Pool(Operand x, int[] dims, boolean max, int kernelH, int kernelW, int strideH, int strideW, int pad, boolean countPad,
                int outH, int outW, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int samples = dims[0] == Shapes.BATCH ? batch : dims[0];
            int channels = dims[1], h = dims[2], wd = dims[3];
            float[] in = x.get(slots), y = slots[out];
            int o = 0;
            for (int p = 0; p < samples * channels; p++) {
                int plane = p * h * wd;
                for (int r = 0; r < outH; r++) {
                    int r0 = r * strideH - pad, r1 = Math.min(r0 + kernelH, h);
                    for (int c = 0; c < outW; c++) {
                        int c0 = c * strideW - pad, c1 = Math.min(c0 + kernelW, wd);
                        float best = Float.NEGATIVE_INFINITY, sum = 0f;
                        int count = 0;
                        for (int i = Math.max(r0, 0); i < r1; i++) {
                            for (int j = Math.max(c0, 0); j < c1; j++) {
                                float v = in[plane + i * wd + j];
                                best = (v > best || v != v) && best == best ? v : best;   // NaN wins, as in max
                                sum += v;
                                count++;
                            }
                        }
                        y[o++] = max ? best : sum / (countPad ? kernelH * kernelW : count);
                    }
                }
            }
        }
    }

    /** Nearest-neighbour upsampling of (batch, C, H, W) by integer factors: y[r][c] = x[r / factorH][c / factorW] (Resize). */
    record Upsample(Operand x, int[] dims, int factorH, int factorW, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int samples = dims[0] == Shapes.BATCH ? batch : dims[0];
            int h = dims[2], wd = dims[3], oh = h * factorH, ow = wd * factorW;
            float[] in = x.get(slots), y = slots[out];
            int o = 0;
            for (int p = 0; p < samples * dims[1]; p++) {
                int plane = p * h * wd;
                for (int r = 0; r < oh; r++) {
                    int row = plane + (r / factorH) * wd;
                    for (int c = 0; c < ow; c++) {
                        y[o++] = in[row + c / factorW];
                    }
                }
            }
        }
    }

    /** Expand: y = x broadcast to outDims (x's dims right-aligned, each 1 or equal). */
    record Expand(Operand x, int[] dims, int[] outDims, int out) implements Step {
        @Override
        public void run(float[][] slots, int batch, Workspace w) {
            int[] o = Shapes.resolve(outDims, batch), d = Shapes.resolve(dims, batch);
            int rank = o.length;
            int[] stride = Binary.broadcastStrides(d, rank), idx = new int[rank];
            float[] in = x.get(slots), y = slots[out];
            int n = Shapes.count(o, batch), at = 0;
            for (int i = 0; i < n; i++) {
                y[i] = in[at];
                for (int k = rank - 1; k >= 0; k--) {
                    idx[k]++;
                    at += stride[k];
                    if (idx[k] < o[k]) {
                        break;
                    }
                    at -= stride[k] * o[k];
                    idx[k] = 0;
                }
            }
        }
    }
}
