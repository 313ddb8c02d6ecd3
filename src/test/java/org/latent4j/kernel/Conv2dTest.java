package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Conv2d} against naive double-precision twins written here, against the dense Toeplitz
 * matrix of the convolution, and against itself (adjoint identities, thread counts).
 *
 * <p>Tolerance per element, as in GemmTest: |got - ref| <= 2 (terms + 2) u sum |a b| + 1e-30, with
 * u = 2^-24 and sum |a b| the sum of the absolute products (and bias) that make the element.
 */
class Conv2dTest {
    static Parallelism two;
    static Parallelism three;

    @BeforeAll
    static void pools() {
        two = Parallelism.of(2);
        three = Parallelism.of(3);
    }

    @AfterAll
    static void close() {
        two.close();
        three.close();
    }

    static final double U = Math.ulp(1.0f) / 2;

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Odd convolution shapes: 5x7 inputs, 3 channels, kernels 1..5, strides 1..3, padding 0..2, stride > kernel, rectangular kernels. */
    static List<ConvShape> oddShapes() {
        List<ConvShape> list = new ArrayList<>();
        for (int k : new int[] {1, 3, 4, 5}) {
            for (int s : new int[] {1, 2, 3}) {
                for (int p : new int[] {0, 1, 2}) {
                    if (5 + 2 * p >= k) {
                        list.add(ConvShape.conv2d(3, 5, 7, 4, k, s, p));
                    }
                }
            }
        }
        list.add(ConvShape.conv2d(3, 5, 7, 2, 2, 3, 0));                 // stride > kernel: gaps
        list.add(ConvShape.conv2d(2, 7, 5, 3, 1, 3, 1));                 // 1x1, stride 3, padding
        list.add(new ConvShape(3, 5, 7, 5, 3, 2, 2, 1, false));          // 3x2 kernel
        list.add(new ConvShape(1, 6, 9, 17, 5, 4, 1, 2, false));         // one input channel, 17 outputs (past a panel)
        list.add(ConvShape.conv2d(19, 4, 4, 6, 4, 2, 1));                // deep input
        list.add(ConvShape.conv2d(3, 5, 7, 4, 3, 1, 4));                 // padding beyond the kernel: outputs that are bias only
        return list;
    }

    /** Transposed shapes: the transposes of the odd ones (same weights, output geometry = the conv's input). */
    static List<ConvShape> transposedShapes() {
        List<ConvShape> list = new ArrayList<>();
        for (ConvShape c : oddShapes()) {
            ConvShape t = new ConvShape(c.outChannels(), c.outHeight(), c.outWidth(), c.inChannels(), c.kernelHeight(), c.kernelWidth(),
                    c.stride(), c.padding(), true);
            // Transposing a conv whose stride skips the last rows gives a smaller output than the conv's input: both are fine.
            list.add(t);
        }
        list.add(ConvShape.convTranspose2d(64, 7, 7, 32, 4, 2, 1));
        list.add(ConvShape.convTranspose2d(5, 3, 2, 2, 3, 3, 0));        // stride = kernel
        return list;
    }

    // ---------------------------------------------------------------- naive double twins

    /** y and sum|.| of a convolution (g not transposed), gathered tap by tap. */
    static double[][] convRef(ConvShape g, int batch, float[] x, float[] w, float[] b) {
        int oc = g.outChannels(), oh = g.outHeight(), ow = g.outWidth(), ic = g.inChannels(), h = g.inHeight(), wd = g.inWidth();
        int kh = g.kernelHeight(), kw = g.kernelWidth(), s = g.stride(), p = g.padding();
        double[] y = new double[batch * g.outSize()], abs = new double[y.length];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double v = b == null ? 0 : b[o], a = Math.abs(v);
                        for (int c = 0; c < ic; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int iy = oy * s - p + i, ix = ox * s - p + j;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        double t = (double) w[((o * ic + c) * kh + i) * kw + j] * x[n * g.inSize() + (c * h + iy) * wd + ix];
                                        v += t;
                                        a += Math.abs(t);
                                    }
                                }
                            }
                        }
                        int k = n * g.outSize() + (o * oh + oy) * ow + ox;
                        y[k] = v;
                        abs[k] = a;
                    }
                }
            }
        }
        return new double[][] {y, abs};
    }

    /** dx (and sum|.|) of a convolution for dy: every output's taps scattered back. */
    static double[][] dataRef(ConvShape g, int batch, float[] dy, float[] w) {
        int oc = g.outChannels(), oh = g.outHeight(), ow = g.outWidth(), ic = g.inChannels(), h = g.inHeight(), wd = g.inWidth();
        int kh = g.kernelHeight(), kw = g.kernelWidth(), s = g.stride(), p = g.padding();
        double[] dx = new double[batch * g.inSize()], abs = new double[dx.length];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double d = dy[n * g.outSize() + (o * oh + oy) * ow + ox];
                        for (int c = 0; c < ic; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int iy = oy * s - p + i, ix = ox * s - p + j;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        double t = d * w[((o * ic + c) * kh + i) * kw + j];
                                        int k = n * g.inSize() + (c * h + iy) * wd + ix;
                                        dx[k] += t;
                                        abs[k] += Math.abs(t);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dx, abs};
    }

    /** dW, sum|.| and db of a convolution for input x and output gradient dy. */
    static double[][] weightRef(ConvShape g, int batch, float[] x, float[] dy) {
        int oc = g.outChannels(), oh = g.outHeight(), ow = g.outWidth(), ic = g.inChannels(), h = g.inHeight(), wd = g.inWidth();
        int kh = g.kernelHeight(), kw = g.kernelWidth(), s = g.stride(), p = g.padding();
        double[] dw = new double[g.weightSize()], abs = new double[dw.length], db = new double[oc], dbAbs = new double[oc];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double d = dy[n * g.outSize() + (o * oh + oy) * ow + ox];
                        db[o] += d;
                        dbAbs[o] += Math.abs(d);
                        for (int c = 0; c < ic; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int iy = oy * s - p + i, ix = ox * s - p + j;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        double t = d * x[n * g.inSize() + (c * h + iy) * wd + ix];
                                        int k = ((o * ic + c) * kh + i) * kw + j;
                                        dw[k] += t;
                                        abs[k] += Math.abs(t);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dw, abs, db, dbAbs};
    }

    /**
     * The transposed convolution straight from its definition (PyTorch's ConvTranspose2d): every
     * input pixel x[c, iy, ix] adds x W[c, o, i, j] to y[o, iy s - p + i, ix s - p + j], plus the bias.
     */
    static double[][] transposedRef(ConvShape t, int batch, float[] x, float[] w, float[] b) {
        int ic = t.inChannels(), h = t.inHeight(), wd = t.inWidth(), oc = t.outChannels(), oh = t.outHeight(), ow = t.outWidth();
        int kh = t.kernelHeight(), kw = t.kernelWidth(), s = t.stride(), p = t.padding();
        double[] y = new double[batch * t.outSize()], abs = new double[y.length];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int q = 0; q < oh * ow; q++) {
                    y[n * t.outSize() + o * oh * ow + q] = b == null ? 0 : b[o];
                    abs[n * t.outSize() + o * oh * ow + q] = b == null ? 0 : Math.abs(b[o]);
                }
            }
            for (int c = 0; c < ic; c++) {
                for (int iy = 0; iy < h; iy++) {
                    for (int ix = 0; ix < wd; ix++) {
                        double v = x[n * t.inSize() + (c * h + iy) * wd + ix];
                        for (int o = 0; o < oc; o++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int oy = iy * s - p + i, ox = ix * s - p + j;
                                    if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
                                        double term = v * w[((c * oc + o) * kh + i) * kw + j];
                                        int k = n * t.outSize() + (o * oh + oy) * ow + ox;
                                        y[k] += term;
                                        abs[k] += Math.abs(term);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {y, abs};
    }

    static void check(float[] got, int off, double[] ref, double[] abs, long terms, String label) {
        for (int i = 0; i < ref.length; i++) {
            double tol = 2 * (terms + 2) * U * abs[i] + 1e-30;
            double err = Math.abs(got[off + i] - ref[i]);
            if (!(err <= tol)) {
                throw new AssertionError(label + ": element " + i + " = " + got[off + i] + " but reference is " + ref[i]
                        + " (error " + err + " > tolerance " + tol + ")");
            }
        }
    }

    static float[] scratch(ConvShape s, int batch, Parallelism par, int chunkFloats) {
        // Filled with NaN: a kernel that read scratch it had not written (a padded sample's border, say) would show.
        float[] sc = new float[Conv2d.scratchSize(s, batch, par.threads(), chunkFloats)];
        java.util.Arrays.fill(sc, Float.NaN);
        return sc;
    }

    /** The three passes of one shape, with a given instance and chunk target; the arrays carry offsets and guard floats. */
    record Run(ConvShape s, int batch, float[] x, float[] w, float[] b, float[] dy) {
        static Run make(SplittableRandom r, ConvShape s, int batch) {
            return new Run(s, batch, random(r, 3 + batch * s.inSize()), random(r, 2 + s.weightSize()), random(r, 1 + s.outChannels()),
                    random(r, 3 + batch * s.outSize()));
        }

        float[] forward(Conv2d conv, int chunkFloats) {
            float[] y = new float[5 + batch * s.outSize()];
            java.util.Arrays.fill(y, Float.NaN);     // the forward must not read y
            conv.forward(y, 5, x, 3, w, 2, b, 1, s, batch, scratch(s, batch, conv.parallelism(), chunkFloats));
            return y;
        }

        float[] data(Conv2d conv, int chunkFloats, float[] dx0) {
            float[] dx = dx0 == null ? new float[4 + batch * s.inSize()] : dx0.clone();
            if (dx0 == null) {
                java.util.Arrays.fill(dx, Float.NaN);   // overwritten, never read
            }
            conv.backwardData(dx, 4, dx0 != null, dy, 3, w, 2, s, batch, scratch(s, batch, conv.parallelism(), chunkFloats));
            return dx;
        }

        float[] weights(Conv2d conv, int chunkFloats) {
            float[] dwb = new float[6 + s.weightSize() + s.outChannels()];
            java.util.Arrays.fill(dwb, Float.NaN);
            conv.backwardWeights(dwb, 1, dwb, 1 + s.weightSize(), x, 3, dy, 3, s, batch, scratch(s, batch, conv.parallelism(), chunkFloats));
            return dwb;
        }

        float[] xs() {
            return java.util.Arrays.copyOfRange(x, 3, x.length);
        }

        float[] ws() {
            return java.util.Arrays.copyOfRange(w, 2, w.length);
        }

        float[] bs() {
            return java.util.Arrays.copyOfRange(b, 1, b.length);
        }

        float[] dys() {
            return java.util.Arrays.copyOfRange(dy, 3, dy.length);
        }
    }

    /** Instances to try: serial and 2 threads with the default chunks, and 3 threads with chunks of about one sample. */
    static List<Object[]> instances() {
        return List.of(new Object[] {new Conv2d(Parallelism.serial()), Conv2d.CHUNK_FLOATS, "1 thread"},
                new Object[] {new Conv2d(two), Conv2d.CHUNK_FLOATS, "2 threads"},
                new Object[] {new Conv2d(three, 64), 64, "3 threads, small chunks"});
    }

    // ---------------------------------------------------------------- against the twins

    @Test
    void forwardMatchesNaiveTwinOnOddShapes() {
        SplittableRandom r = new SplittableRandom(1);
        for (ConvShape s : oddShapes()) {
            Run run = Run.make(r, s, 3);
            double[][] ref = convRef(s, 3, run.xs(), run.ws(), run.bs());
            for (Object[] in : instances()) {
                float[] y = run.forward((Conv2d) in[0], (int) in[1]);
                check(y, 5, ref[0], ref[1], (long) s.inChannels() * s.kernelHeight() * s.kernelWidth(), s + ", " + in[2]);
                for (int i = 0; i < 5; i++) {
                    assertTrue(Float.isNaN(y[i]), s + ": wrote before its output");
                }
            }
        }
    }

    @Test
    void backwardDataMatchesNaiveTwin() {
        SplittableRandom r = new SplittableRandom(2);
        for (ConvShape s : oddShapes()) {
            Run run = Run.make(r, s, 3);
            double[][] ref = dataRef(s, 3, run.dys(), run.ws());
            for (Object[] in : instances()) {
                float[] dx = run.data((Conv2d) in[0], (int) in[1], null);
                check(dx, 4, ref[0], ref[1], (long) s.outChannels() * s.kernelHeight() * s.kernelWidth(), s + ", " + in[2]);
            }
        }
    }

    @Test
    void backwardWeightsMatchNaiveTwin() {
        SplittableRandom r = new SplittableRandom(3);
        for (ConvShape s : oddShapes()) {
            int batch = 5;
            Run run = Run.make(r, s, batch);
            double[][] ref = weightRef(s, batch, run.xs(), run.dys());
            long terms = 2L * batch * s.outHeight() * s.outWidth();
            for (Object[] in : instances()) {
                float[] dwb = run.weights((Conv2d) in[0], (int) in[1]);
                check(dwb, 1, ref[0], ref[1], terms, s + " dW, " + in[2]);
                check(dwb, 1 + s.weightSize(), ref[2], ref[3], terms, s + " db, " + in[2]);
                assertTrue(Float.isNaN(dwb[0]) && Float.isNaN(dwb[1 + s.weightSize() + s.outChannels()]), s + ": wrote outside dW, db");
            }
        }
    }

    @Test
    void transposedConvolutionMatchesItsDefinition() {
        SplittableRandom r = new SplittableRandom(4);
        for (ConvShape t : transposedShapes()) {
            int batch = 3;
            Run run = Run.make(r, t, batch);
            ConvShape c = t.convolution();
            assertEquals(t.outHeight(), c.inHeight());
            assertEquals(t.inHeight(), c.outHeight(), t + ": the conv twin maps the output back onto the input");
            double[][] fwd = transposedRef(t, batch, run.xs(), run.ws(), run.bs());
            // Data gradient of the transposed conv = the twin's forward (no bias); weight gradient = the twin's, roles swapped.
            double[][] data = convRef(c, batch, run.dys(), run.ws(), null);
            double[][] wts = weightRef(c, batch, run.dys(), run.xs());
            double[] db = new double[t.outChannels()], dbAbs = new double[t.outChannels()];
            int plane = t.outHeight() * t.outWidth();
            float[] dys = run.dys();
            for (int n = 0; n < batch; n++) {
                for (int o = 0; o < t.outChannels(); o++) {
                    for (int q = 0; q < plane; q++) {
                        double d = dys[n * t.outSize() + o * plane + q];
                        db[o] += d;
                        dbAbs[o] += Math.abs(d);
                    }
                }
            }
            for (Object[] in : instances()) {
                Conv2d conv = (Conv2d) in[0];
                int cf = (int) in[1];
                check(run.forward(conv, cf), 5, fwd[0], fwd[1], (long) t.inChannels() * t.kernelHeight() * t.kernelWidth(), t + " forward, " + in[2]);
                check(run.data(conv, cf, null), 4, data[0], data[1], (long) t.outChannels() * t.kernelHeight() * t.kernelWidth(),
                        t + " data, " + in[2]);
                float[] dwb = run.weights(conv, cf);
                long terms = 2L * batch * t.inHeight() * t.inWidth();
                check(dwb, 1, wts[0], wts[1], terms, t + " dW, " + in[2]);
                check(dwb, 1 + t.weightSize(), db, dbAbs, 2L * batch * plane, t + " db, " + in[2]);
            }
        }
    }

    // ---------------------------------------------------------------- Toeplitz and adjoints

    /** The dense matrix of one sample's convolution: T[(o, oy, ox)][(c, iy, ix)] = W[o, c, iy - oy s + p, ix - ox s + p] (0 off the kernel). */
    static double[][] toeplitz(ConvShape g, float[] w) {
        int oh = g.outHeight(), ow = g.outWidth(), h = g.inHeight(), wd = g.inWidth(), kh = g.kernelHeight(), kw = g.kernelWidth();
        double[][] t = new double[g.outSize()][g.inSize()];
        for (int row = 0; row < g.outSize(); row++) {
            int o = row / (oh * ow), oy = row / ow % oh, ox = row % ow;
            for (int col = 0; col < g.inSize(); col++) {
                int c = col / (h * wd), iy = col / wd % h, ix = col % wd;
                int i = iy - oy * g.stride() + g.padding(), j = ix - ox * g.stride() + g.padding();
                if (i >= 0 && i < kh && j >= 0 && j < kw) {
                    t[row][col] = w[((o * g.inChannels() + c) * kh + i) * kw + j];
                }
            }
        }
        return t;
    }

    @Test
    void convolutionIsTheToeplitzMatmulAndTheTransposedOneItsTranspose() {
        SplittableRandom r = new SplittableRandom(5);
        Conv2d conv = new Conv2d(two);
        for (ConvShape g : oddShapes()) {
            int batch = 2;
            Run run = Run.make(r, g, batch);
            double[][] t = toeplitz(g, run.ws());
            float[] xs = run.xs(), dys = run.dys(), bs = run.bs();
            float[] y = run.forward(conv, Conv2d.CHUNK_FLOATS);
            float[] dx = run.data(conv, Conv2d.CHUNK_FLOATS, null);
            ConvShape tr = new ConvShape(g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(), g.kernelHeight(), g.kernelWidth(),
                    g.stride(), g.padding(), true);
            // The transposed conv with the same weight reads dy (shaped as its input) and writes an image of the conv's input size
            // whenever the conv's stride covers the input exactly; otherwise its output is smaller and T^T is cut to it.
            float[] ty = new float[batch * tr.outSize()];
            float[] tb = random(r, tr.outChannels());
            conv.forward(ty, 0, dys, 0, run.ws(), 0, tb, 0, tr, batch, scratch(tr, batch, two, Conv2d.CHUNK_FLOATS));
            for (int n = 0; n < batch; n++) {
                for (int row = 0; row < g.outSize(); row++) {
                    double v = bs[row / (g.outHeight() * g.outWidth())], a = Math.abs(v);
                    for (int col = 0; col < g.inSize(); col++) {
                        v += t[row][col] * xs[n * g.inSize() + col];
                        a += Math.abs(t[row][col] * xs[n * g.inSize() + col]);
                    }
                    check(y, 5 + n * g.outSize() + row, new double[] {v}, new double[] {a}, g.inSize(), g + " T x + b, row " + row);
                }
                int th = tr.outHeight(), tw = tr.outWidth();
                for (int col = 0; col < g.inSize(); col++) {
                    double v = 0, a = 0;
                    for (int row = 0; row < g.outSize(); row++) {
                        v += t[row][col] * dys[n * g.outSize() + row];
                        a += Math.abs(t[row][col] * dys[n * g.outSize() + row]);
                    }
                    check(dx, 4 + n * g.inSize() + col, new double[] {v}, new double[] {a}, g.outSize(), g + " T^T dy, column " + col);
                    int c = col / (g.inHeight() * g.inWidth()), iy = col / g.inWidth() % g.inHeight(), ix = col % g.inWidth();
                    if (iy < th && ix < tw) {
                        int k = n * tr.outSize() + (c * th + iy) * tw + ix;
                        check(ty, k, new double[] {v + tb[c]}, new double[] {a + Math.abs(tb[c])}, g.outSize(),
                                tr + " T^T x + b, column " + col);
                    }
                }
            }
        }
    }

    @Test
    void adjointIdentityHoldsInDouble() {
        // <conv(x), dy> = <x, conv_backward_data(dy)>, both sides from the float kernels, summed in double.
        SplittableRandom r = new SplittableRandom(6);
        Conv2d conv = new Conv2d(two, 200);
        List<ConvShape> shapes = new ArrayList<>(oddShapes());
        shapes.addAll(transposedShapes());
        for (ConvShape s : shapes) {
            int batch = 4;
            float[] x = random(r, batch * s.inSize()), w = random(r, s.weightSize()), dy = random(r, batch * s.outSize());
            float[] y = new float[batch * s.outSize()], dx = new float[batch * s.inSize()];
            float[] sc = scratch(s, batch, two, 200);
            conv.forward(y, 0, x, 0, w, 0, null, 0, s, batch, sc);
            conv.backwardData(dx, 0, false, dy, 0, w, 0, s, batch, sc);
            double lhs = 0, rhs = 0, abs = 0;
            for (int i = 0; i < y.length; i++) {
                lhs += (double) y[i] * dy[i];
                abs += Math.abs((double) y[i] * dy[i]);
            }
            for (int i = 0; i < dx.length; i++) {
                rhs += (double) x[i] * dx[i];
                abs += Math.abs((double) x[i] * dx[i]);
            }
            double tol = 4 * (s.inChannels() * s.outChannels() * s.kernelHeight() * s.kernelWidth() + 2) * U * abs;
            assertTrue(Math.abs(lhs - rhs) <= tol, s + ": <conv x, dy> = " + lhs + " but <x, conv^T dy> = " + rhs);
        }
    }

    @Test
    void transposedPassesAreTheConvolutionsPassesBitwise() {
        SplittableRandom r = new SplittableRandom(7);
        for (Object[] in : instances()) {
            Conv2d conv = (Conv2d) in[0];
            int cf = (int) in[1];
            for (ConvShape t : transposedShapes()) {
                ConvShape c = t.convolution();
                int batch = 3;
                float[] x = random(r, batch * t.inSize()), w = random(r, t.weightSize()), dy = random(r, batch * t.outSize());
                float[] sc = scratch(t, batch, conv.parallelism(), cf);
                // Forward of the transposed conv = data gradient of the conv twin.
                float[] a = new float[batch * t.outSize()], b = new float[batch * t.outSize()];
                conv.forward(a, 0, x, 0, w, 0, null, 0, t, batch, sc);
                conv.backwardData(b, 0, false, x, 0, w, 0, c, batch, sc);
                assertArrayEquals(b, a, t + ": forward differs from the conv's backward data, " + in[2]);
                // Data gradient of the transposed conv = forward of the conv twin without bias.
                float[] d1 = new float[batch * t.inSize()], d2 = new float[batch * t.inSize()];
                conv.backwardData(d1, 0, false, dy, 0, w, 0, t, batch, sc);
                conv.forward(d2, 0, dy, 0, w, 0, null, 0, c, batch, sc);
                assertArrayEquals(d2, d1, t + ": backward data differs from the conv's forward, " + in[2]);
                // Weight gradient = the twin's with input and output gradient swapped.
                float[] w1 = new float[t.weightSize()], w2 = new float[t.weightSize()];
                conv.backwardWeights(w1, 0, null, 0, x, 0, dy, 0, t, batch, sc);
                conv.backwardWeights(w2, 0, null, 0, dy, 0, x, 0, c, batch, sc);
                assertArrayEquals(w2, w1, t + ": backward weights differ from the conv's, " + in[2]);
            }
        }
    }

    // ---------------------------------------------------------------- threads, accumulation, reuse

    @Test
    void bitwiseIdenticalForOneTwoAndThreeThreads() {
        SplittableRandom r = new SplittableRandom(8);
        List<ConvShape> shapes = List.of(ConvShape.conv2d(1, 28, 28, 32, 4, 2, 1), ConvShape.conv2d(32, 14, 14, 64, 4, 2, 1),
                ConvShape.convTranspose2d(64, 7, 7, 32, 4, 2, 1), ConvShape.convTranspose2d(32, 14, 14, 1, 4, 2, 1),
                ConvShape.conv2d(3, 5, 7, 4, 3, 2, 1));
        try (Parallelism one = Parallelism.of(1)) {
            for (ConvShape s : shapes) {
                // 21 samples: several chunks (4 of 6 for the 32 -> 64 layer), rounds that do not fill every thread.
                int batch = s.inChannels() == 3 ? 23 : 21;
                int cf = s.inChannels() == 3 ? 100 : Conv2d.CHUNK_FLOATS;
                Run run = Run.make(r, s, batch);
                Conv2d c1 = new Conv2d(one, cf), c2 = new Conv2d(two, cf), c3 = new Conv2d(three, cf);
                assertTrue(Conv2d.chunkSamples(s, batch, cf) < batch, s + ": the test must cross chunks");
                assertArrayEquals(run.forward(c1, cf), run.forward(c2, cf), s + ": forward, 2 threads differ from 1");
                assertArrayEquals(run.forward(c1, cf), run.forward(c3, cf), s + ": forward, 3 threads differ from 1");
                assertArrayEquals(run.data(c1, cf, null), run.data(c2, cf, null), s + ": data, 2 threads differ from 1");
                assertArrayEquals(run.data(c1, cf, null), run.data(c3, cf, null), s + ": data, 3 threads differ from 1");
                assertArrayEquals(run.weights(c1, cf), run.weights(c2, cf), s + ": weights, 2 threads differ from 1");
                assertArrayEquals(run.weights(c1, cf), run.weights(c3, cf), s + ": weights, 3 threads differ from 1");
            }
        }
    }

    @Test
    void forwardAndDataBitsDoNotDependOnTheChunks() {
        // Each of their outputs is one GEMM dot product in k order plus additions in a fixed order, whatever the chunk;
        // only the weight gradient's association depends on the chunks (fixed by the shape and batch).
        SplittableRandom r = new SplittableRandom(12);
        for (ConvShape s : List.of(ConvShape.conv2d(3, 5, 7, 4, 3, 2, 1), ConvShape.convTranspose2d(4, 3, 4, 3, 3, 2, 1),
                ConvShape.conv2d(32, 14, 14, 64, 4, 2, 1))) {
            int batch = 9;
            Run run = Run.make(r, s, batch);
            Conv2d whole = new Conv2d(two, 1 << 24), single = new Conv2d(two, 1);
            assertEquals(batch, Conv2d.chunkSamples(s, batch, 1 << 24));
            assertEquals(1, Conv2d.chunkSamples(s, batch, 1));
            assertArrayEquals(run.forward(whole, 1 << 24), run.forward(single, 1), s + ": forward");
            assertArrayEquals(run.data(whole, 1 << 24, null), run.data(single, 1, null), s + ": data");
        }
    }

    @Test
    void accumulateAddsToTheExistingGradient() {
        SplittableRandom r = new SplittableRandom(9);
        for (Object[] in : instances()) {
            Conv2d conv = (Conv2d) in[0];
            int cf = (int) in[1];
            List<ConvShape> shapes = new ArrayList<>(List.of(ConvShape.conv2d(3, 5, 7, 4, 3, 2, 1), ConvShape.conv2d(3, 5, 7, 4, 4, 1, 2)));
            shapes.add(ConvShape.convTranspose2d(4, 3, 4, 3, 3, 2, 1));
            for (ConvShape s : shapes) {
                int batch = 3;
                Run run = Run.make(r, s, batch);
                float[] fresh = run.data(conv, cf, null);
                float[] zeros = new float[fresh.length];
                assertArrayEquals(java.util.Arrays.copyOfRange(fresh, 4, fresh.length),
                        java.util.Arrays.copyOfRange(run.data(conv, cf, zeros), 4, fresh.length),
                        s + ": accumulating onto zeros differs from overwriting, " + in[2]);
                float[] old = random(r, fresh.length);
                float[] added = run.data(conv, cf, old);
                double[] abs = s.transposed() ? convRef(s.convolution(), batch, run.dys(), run.ws(), null)[1]
                        : dataRef(s, batch, run.dys(), run.ws())[1];
                for (int i = 4; i < fresh.length; i++) {
                    double expect = (double) old[i] + fresh[i];
                    double tol = 4 * (s.outChannels() * s.kernelHeight() * s.kernelWidth() + 2) * U * (Math.abs(old[i]) + abs[i - 4]);
                    assertTrue(Math.abs(added[i] - expect) <= tol, s + ": element " + i + " accumulated to " + added[i] + ", expected "
                            + expect + ", " + in[2]);
                }
                for (int i = 0; i < 4; i++) {
                    assertEquals(old[i], added[i], s + ": wrote before dx");
                }
                if (s.transposed()) {
                    // Here the data gradient ends in one addition per element: old + fresh exactly as floats.
                    for (int i = 4; i < fresh.length; i++) {
                        assertEquals(old[i] + fresh[i], added[i], s + ": element " + i);
                    }
                }
            }
        }
    }

    @Test
    void oneByOneKernelIsAMatmulOverChannels() {
        SplittableRandom r = new SplittableRandom(10);
        ConvShape s = ConvShape.conv2d(5, 3, 7, 6, 1, 1, 0);
        int batch = 2, q = 21;
        Run run = Run.make(r, s, batch);
        float[] y = run.forward(new Conv2d(two), Conv2d.CHUNK_FLOATS);
        float[] xs = run.xs(), ws = run.ws(), bs = run.bs();
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < 6; o++) {
                for (int p = 0; p < q; p++) {
                    double v = bs[o], a = Math.abs(v);
                    for (int c = 0; c < 5; c++) {
                        double t = (double) ws[o * 5 + c] * xs[n * 5 * q + c * q + p];
                        v += t;
                        a += Math.abs(t);
                    }
                    check(y, 5 + n * 6 * q + o * q + p, new double[] {v}, new double[] {a}, 5, "1x1 conv");
                }
            }
        }
    }

    @Test
    void reusedInstanceGivesTheSameBitsAsAFreshOne() {
        SplittableRandom r = new SplittableRandom(11);
        Conv2d reused = new Conv2d(two);
        Run big = Run.make(r, ConvShape.conv2d(32, 14, 14, 64, 4, 2, 1), 9);
        big.forward(reused, Conv2d.CHUNK_FLOATS);
        big.weights(reused, Conv2d.CHUNK_FLOATS);
        Run small = Run.make(r, ConvShape.conv2d(3, 5, 7, 4, 3, 2, 1), 3);
        assertArrayEquals(small.forward(new Conv2d(two), Conv2d.CHUNK_FLOATS), small.forward(reused, Conv2d.CHUNK_FLOATS));
        assertArrayEquals(small.data(new Conv2d(two), Conv2d.CHUNK_FLOATS, null), small.data(reused, Conv2d.CHUNK_FLOATS, null));
        assertArrayEquals(small.weights(new Conv2d(two), Conv2d.CHUNK_FLOATS), small.weights(reused, Conv2d.CHUNK_FLOATS));
    }

    @Test
    void chunksDependOnTheShapeAndBatchOnly() {
        ConvShape s = ConvShape.conv2d(32, 14, 14, 64, 4, 2, 1);
        // 49 positions x (512 columns + 64 outputs) = 28224 floats a sample: 4 samples under 2^17.
        assertEquals(4, Conv2d.chunkSamples(s, 128));
        assertEquals(3, Conv2d.chunkSamples(s, 3));
        assertEquals(1, Conv2d.chunkSamples(ConvShape.conv2d(512, 64, 64, 64, 3, 1, 1), 8));
        // Scratch: per task one chunk and one zero-padded sample (32 x 16 x 16; never more tasks than chunks),
        // then one partial dW per weight group (at most 8), then W packed once (64 x 512, panels of Gemm.NR).
        int padded = 32 * 16 * 16, packedW = Gemm.packedBSize(512, 64);
        assertEquals(2 * (4 * 28224 + padded) + Conv2d.WEIGHT_GROUPS * 64 * 512 + packedW, Conv2d.scratchSize(s, 128, 2));
        assertEquals(3 * 28224 + padded + 64 * 512 + packedW, Conv2d.scratchSize(s, 3, 2));
        ConvShape t = ConvShape.convTranspose2d(64, 7, 7, 32, 4, 2, 1);
        assertEquals(Conv2d.scratchSize(s, 50, 2), Conv2d.scratchSize(t, 50, 2), "a transposed conv uses its twin's chunks");
    }

    // ---------------------------------------------------------------- errors

    static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void badShapesAndArgumentsGiveClearMessages() {
        assertEquals("conv2d(32, 3, stride 2) needs at least 3x3 input, got 1x1", message(() -> ConvShape.conv2d(1, 1, 1, 32, 3, 2, 0)));
        assertEquals("conv2d(32, 5, stride 1, padding 1) needs at least 3x3 input, got 2x7",
                message(() -> ConvShape.conv2d(3, 2, 7, 32, 5, 1, 1)));
        assertEquals("conv_transpose2d(1, 2, stride 1, padding 1) gives a 0x0 output for 1x1 input "
                + "((in - 1) * stride - 2 * padding + kernel must be at least 1)", message(() -> ConvShape.convTranspose2d(4, 1, 1, 1, 2, 1, 1)));
        assertTrue(message(() -> ConvShape.conv2d(0, 5, 5, 3, 3, 1, 0)).contains("in channels must be positive, got 0"));
        assertTrue(message(() -> ConvShape.conv2d(3, 5, 5, 3, 3, 0, 0)).contains("stride must be positive, got 0"));
        assertTrue(message(() -> ConvShape.conv2d(3, 5, 5, 3, 0, 1, 0)).contains("kernel height must be positive"));
        assertTrue(message(() -> ConvShape.conv2d(3, 5, 5, 3, 3, 1, -1)).contains("padding must not be negative, got -1"));
        assertTrue(message(() -> ConvShape.conv2d(3, 5, 5, 0, 3, 1, 0)).contains("out channels must be positive"));
        assertTrue(message(() -> ConvShape.conv2d(65536, 256, 256, 3, 3, 1, 0)).contains("more than an array holds"));

        ConvShape s = ConvShape.conv2d(3, 5, 7, 4, 3, 2, 1);
        Conv2d conv = new Conv2d(two);
        float[] x = new float[2 * s.inSize()], y = new float[2 * s.outSize()], w = new float[s.weightSize()];
        float[] sc = new float[Conv2d.scratchSize(s, 2, 2)];
        String m = message(() -> conv.forward(y, 0, x, 0, w, 0, null, 0, s, 2, new float[sc.length - 1]));
        assertTrue(m.contains("scratch has " + (sc.length - 1) + " floats") && m.contains("need " + sc.length), m);
        m = message(() -> conv.forward(y, 1, x, 0, w, 0, null, 0, s, 2, sc));
        assertTrue(m.startsWith("y: range [1, " + (y.length + 1) + ")"), m);
        m = message(() -> conv.forward(y, 0, x, 0, w, 0, new float[3], 0, s, 2, sc));
        assertTrue(m.startsWith("bias:"), m);
        m = message(() -> conv.backwardData(x, 0, false, y, 0, new float[5], 0, s, 2, sc));
        assertTrue(m.startsWith("weight:"), m);
        m = message(() -> conv.backwardWeights(w, 0, null, 0, x, 0, y, 0, s, 0, sc));
        assertTrue(m.contains("batch must be at least 1, got 0"), m);
        m = message(() -> conv.backwardData(y, 0, false, x, 0, w, 0, s, 2, sc));   // dx and dy swapped
        assertTrue(m.startsWith("dx: range"), m);
    }
}
