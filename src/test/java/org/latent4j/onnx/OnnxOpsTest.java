package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.latent4j.onnx.OnnxGraph.Attribute;
import org.latent4j.onnx.OnnxGraph.Tensor;

/**
 * Each supported operator on small random inputs against a scalar double-precision reference
 * written here from the ONNX operator specification (index arithmetic and sums in double).
 */
class OnnxOpsTest {
    static final SplittableRandom R = new SplittableRandom(16);

    static void close(double[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(want[i] - got[i]);
            assertTrue(err <= tol * Math.max(1, Math.abs(want[i])), what + " [" + i + "]: want " + want[i] + ", got " + got[i]);
        }
    }

    static float[] run(OnnxModel m, int batch, float[] x, String out) {
        return m.run(batch, x).get(out);
    }

    // ------------------------------------------------------------------ products

    @Test
    void gemmWithTransposedOrPlainWeightAlphaBetaAndARowBias() {
        int b = 3, k = 7, n = 5;
        for (int transB = 0; transB < 2; transB++) {
            float[] x = G.random(R, b * k, -1, 1), w = G.random(R, k * n, -1, 1), c = G.random(R, n, -1, 1);
            int[] wd = transB == 1 ? new int[] {n, k} : new int[] {k, n};
            OnnxModel m = new G().input("x", k).output("y").init("W", wd, w).init("C", new int[] {1, n}, c)
                    .node("Gemm", List.of("x", "W", "C"), List.of("y"), Attribute.ofFloat("alpha", 0.5f), Attribute.ofFloat("beta", 2f),
                            Attribute.ofInt("transB", transB))
                    .model();
            double[] want = new double[b * n];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (double) x[i * k + p] * (transB == 1 ? w[j * k + p] : w[p * n + j]);
                    }
                    want[i * n + j] = 0.5 * s + 2.0 * c[j];
                }
            }
            close(want, run(m, b, x, "y"), 1e-5, "Gemm transB=" + transB);
        }
    }

    @Test
    void matMulOnARank3ValueThenAddOfARowFusedAsBiasThenRelu() {
        int b = 2, rows = 3, k = 4, n = 6;
        float[] x = G.random(R, b * rows * k, -1, 1), w = G.random(R, k * n, -1, 1), bias = G.random(R, n, -1, 1);
        OnnxModel m = new G().input("x", rows, k).output("y").init("W", new int[] {k, n}, w).init("b", new int[] {n}, bias)
                .node("MatMul", List.of("x", "W"), List.of("h"))
                .node("Add", List.of("b", "h"), List.of("a"))
                .node("Relu", List.of("a"), List.of("y"))
                .model();
        assertArrayEquals(new int[] {rows, n}, m.outputShape("y"));
        assertTrue(m.describe().contains("2 fusions"), m.describe());
        double[] want = new double[b * rows * n];
        for (int r = 0; r < b * rows; r++) {
            for (int j = 0; j < n; j++) {
                double s = bias[j];
                for (int p = 0; p < k; p++) {
                    s += (double) x[r * k + p] * w[p * n + j];
                }
                want[r * n + j] = Math.max(0, s);
            }
        }
        close(want, run(m, b, x, "y"), 1e-5, "MatMul + Add + Relu");
    }

    // ------------------------------------------------------------------ element-wise

    @Test
    void arithmeticBroadcastsAsOnnxSpecifies() {
        int b = 3;
        float[] x = G.random(R, b * 3 * 4, -2, 2), row = G.random(R, 4, 0.5, 2), col = G.random(R, 3, 0.5, 2);
        float[] scalar = {1.75f};
        String[] ops = {"Add", "Sub", "Mul", "Div"};
        for (String op : ops) {
            // x op row (4), col (3, 1) op x, x op scalar
            OnnxModel m = new G().input("x", 3, 4).output("p", "q", "s").init("row", new int[] {4}, row).init("col", new int[] {3, 1}, col)
                    .init("k", new int[0], scalar)
                    .node(op, List.of("x", "row"), List.of("p"))
                    .node(op, List.of("col", "x"), List.of("q"))
                    .node(op, List.of("x", "k"), List.of("s"))
                    .model();
            Map<String, float[]> got = m.run(b, x);
            double[] p = new double[x.length], q = new double[x.length], s = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int r = (i / 4) % 3, c = i % 4;
                p[i] = apply(op, x[i], row[c]);
                q[i] = apply(op, col[r], x[i]);
                s[i] = apply(op, x[i], scalar[0]);
            }
            close(p, got.get("p"), 1e-6, op + " row");
            close(q, got.get("q"), 1e-6, op + " column first");
            close(s, got.get("s"), 1e-6, op + " scalar");
        }
        // two computed values broadcast against each other: (b, 3, 1) op (b, 1, 4), the general strided case
        float[] u = G.random(R, b * 3, -1, 1), v = G.random(R, b * 4, 0.5, 1.5);
        for (String op : ops) {
            OnnxModel m = new G().input("u", 3, 1).input("v", 1, 4).output("y").node(op, List.of("u", "v"), List.of("y")).model();
            float[] got = m.run(b, Map.of("u", u, "v", v)).get("y");
            double[] want = new double[b * 12];
            for (int s = 0; s < b; s++) {
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 4; c++) {
                        want[s * 12 + r * 4 + c] = apply(op, u[s * 3 + r], v[s * 4 + c]);
                    }
                }
            }
            close(want, got, 1e-6, op + " (b,3,1) x (b,1,4)");
        }
    }

    static double apply(String op, double a, double b) {
        return switch (op) {
            case "Add" -> a + b;
            case "Sub" -> a - b;
            case "Mul" -> a * b;
            default -> a / b;
        };
    }

    @Test
    void activationsMatchTheirDoubleFormulas() {
        record Case(String op, Attribute attribute, DoubleUnaryOperator f, double lo, double hi) {}
        List<Case> cases = List.of(
                new Case("Relu", null, v -> Math.max(0, v), -3, 3),
                new Case("LeakyRelu", Attribute.ofFloat("alpha", 0.2f), v -> v > 0 ? v : 0.2f * v, -3, 3),
                new Case("LeakyRelu", null, v -> v > 0 ? v : 0.01f * v, -3, 3),
                new Case("Elu", Attribute.ofFloat("alpha", 0.5f), v -> v > 0 ? v : 0.5 * Math.expm1(v), -4, 3),
                new Case("Elu", null, v -> v > 0 ? v : Math.expm1(v), -4, 3),
                new Case("Sigmoid", null, v -> 1 / (1 + Math.exp(-v)), -8, 8),
                new Case("Tanh", null, Math::tanh, -5, 5),
                new Case("Softplus", null, v -> Math.log1p(Math.exp(v)), -10, 10),
                new Case("Exp", null, Math::exp, -5, 5),
                new Case("Log", null, Math::log, 0.01, 50));
        int b = 4, w = 37;   // not a multiple of the vector width: the tails too
        for (Case c : cases) {
            float[] x = G.random(R, b * w, c.lo(), c.hi());
            OnnxModel m = new G().input("x", w).output("y")
                    .node(c.op(), List.of("x"), List.of("y"), c.attribute() == null ? new Attribute[0] : new Attribute[] {c.attribute()})
                    .model();
            double[] want = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                want[i] = c.f().applyAsDouble(x[i]);
            }
            close(want, run(m, b, x, "y"), 2e-6, c.op() + (c.attribute() == null ? "" : " alpha " + c.attribute().f()));
        }
    }

    @Test
    void batchNormalizationAtInferenceOnFeaturesAndImages() {
        int b = 3, ch = 4, h = 2, w = 3;
        float[] g = G.random(R, ch, 0.5, 1.5), beta = G.random(R, ch, -1, 1), mean = G.random(R, ch, -1, 1), var = G.random(R, ch, 0.1, 2);
        for (int spatial = 0; spatial < 2; spatial++) {
            int plane = spatial == 1 ? h * w : 1;
            float[] x = G.random(R, b * ch * plane, -2, 2);
            G graph = spatial == 1 ? new G().input("x", ch, h, w) : new G().input("x", ch);
            OnnxModel m = graph.output("y").init("g", new int[] {ch}, g).init("beta", new int[] {ch}, beta).init("m", new int[] {ch}, mean)
                    .init("v", new int[] {ch}, var)
                    .node("BatchNormalization", List.of("x", "g", "beta", "m", "v"), List.of("y"), Attribute.ofFloat("epsilon", 1e-3f))
                    .model();
            double[] want = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int c = (i / plane) % ch;
                want[i] = (x[i] - mean[c]) / Math.sqrt(var[c] + (double) 1e-3f) * g[c] + beta[c];
            }
            close(want, run(m, b, x, "y"), 1e-5, "BatchNormalization spatial=" + spatial);
        }
    }

    // ------------------------------------------------------------------ convolutions

    /** y[s, o, r, c] = b[o] + sum_{i, u, v} W[o, i, u, v] x[s, i, r stride - pad + u, c stride - pad + v]. */
    static double[] conv(float[] x, int b, int ci, int h, int w, float[] wt, float[] bias, int co, int kh, int kw, int stride,
                         int padTop, int padLeft, int oh, int ow) {
        double[] y = new double[b * co * oh * ow];
        for (int s = 0; s < b; s++) {
            for (int o = 0; o < co; o++) {
                for (int r = 0; r < oh; r++) {
                    for (int c = 0; c < ow; c++) {
                        double sum = bias[o];
                        for (int i = 0; i < ci; i++) {
                            for (int u = 0; u < kh; u++) {
                                for (int v = 0; v < kw; v++) {
                                    int yy = r * stride - padTop + u, xx = c * stride - padLeft + v;
                                    if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                                        sum += (double) wt[((o * ci + i) * kh + u) * kw + v] * x[((s * ci + i) * h + yy) * w + xx];
                                    }
                                }
                            }
                        }
                        y[((s * co + o) * oh + r) * ow + c] = sum;
                    }
                }
            }
        }
        return y;
    }

    @Test
    void convWithStridePaddingSamePaddingAndAFusedActivation() {
        int b = 2, ci = 3, h = 7, w = 6, co = 4;
        float[] x = G.random(R, b * ci * h * w, -1, 1), wt = G.random(R, co * ci * 3 * 3, -1, 1), bias = G.random(R, co, -1, 1);
        // explicit pads 1, stride 2, then Tanh (fused)
        OnnxModel m = new G().input("x", ci, h, w).output("y").init("W", new int[] {co, ci, 3, 3}, wt).init("B", new int[] {co}, bias)
                .node("Conv", List.of("x", "W", "B"), List.of("c"), Attribute.ofInts("pads", 1, 1, 1, 1), Attribute.ofInts("strides", 2, 2),
                        Attribute.ofInts("kernel_shape", 3, 3))
                .node("Tanh", List.of("c"), List.of("y"))
                .model();
        int oh = (h + 2 - 3) / 2 + 1, ow = (w + 2 - 3) / 2 + 1;
        assertArrayEquals(new int[] {co, oh, ow}, m.outputShape("y"));
        double[] want = conv(x, b, ci, h, w, wt, bias, co, 3, 3, 2, 1, 1, oh, ow);
        for (int i = 0; i < want.length; i++) {
            want[i] = Math.tanh(want[i]);
        }
        close(want, run(m, b, x, "y"), 1e-5, "Conv stride 2 pad 1 + Tanh");
        // auto_pad SAME_UPPER with stride 1: output h x w, pads 1 on each side for a 3x3 kernel
        OnnxModel same = new G().input("x", ci, h, w).output("y").init("W", new int[] {co, ci, 3, 3}, wt)
                .node("Conv", List.of("x", "W"), List.of("y"), Attribute.ofString("auto_pad", "SAME_UPPER"))
                .model();
        close(conv(x, b, ci, h, w, wt, new float[co], co, 3, 3, 1, 1, 1, h, w), run(same, b, x, "y"), 1e-5, "Conv SAME_UPPER, no bias");
    }

    /**
     * ConvTranspose by its definition, a scatter: x[s, i, r, c] W[i, o, u, v] adds into the full
     * output at (r stride + u, c stride + v); the output is the full one shifted by (padTop, padLeft),
     * of oh x ow (output padding: the bias alone past the full output).
     */
    static double[] convTranspose(float[] x, int b, int ci, int h, int w, float[] wt, float[] bias, int co, int k, int stride,
                                  int padTop, int padLeft, int oh, int ow) {
        int fh = (h - 1) * stride + k, fw = (w - 1) * stride + k;
        double[] y = new double[b * co * oh * ow];
        for (int s = 0; s < b; s++) {
            double[] full = new double[co * fh * fw];
            for (int i = 0; i < ci; i++) {
                for (int r = 0; r < h; r++) {
                    for (int c = 0; c < w; c++) {
                        for (int o = 0; o < co; o++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    full[(o * fh + r * stride + u) * fw + c * stride + v] +=
                                            (double) x[((s * ci + i) * h + r) * w + c] * wt[((i * co + o) * k + u) * k + v];
                                }
                            }
                        }
                    }
                }
            }
            for (int o = 0; o < co; o++) {
                for (int r = 0; r < oh; r++) {
                    for (int c = 0; c < ow; c++) {
                        int fr = r + padTop, fc = c + padLeft;
                        y[((s * co + o) * oh + r) * ow + c] = bias[o] + (fr < fh && fc < fw ? full[(o * fh + fr) * fw + fc] : 0);
                    }
                }
            }
        }
        return y;
    }

    @Test
    void convTransposeWithPaddingOutputPaddingAndUnevenPads() {
        int b = 2, ci = 3, h = 3, w = 4, co = 2, k = 3;
        float[] x = G.random(R, b * ci * h * w, -1, 1), wt = G.random(R, ci * co * k * k, -1, 1), bias = G.random(R, co, -1, 1);
        long[][] padsCases = {{1, 1, 1, 1}, {1, 1, 1, 1}, {0, 2, 1, 0}};
        long[][] outPad = {{0, 0}, {1, 1}, {1, 0}};
        for (int t = 0; t < padsCases.length; t++) {
            long[] p = padsCases[t];
            OnnxModel m = new G().input("x", ci, h, w).output("y").init("W", new int[] {ci, co, k, k}, wt).init("B", new int[] {co}, bias)
                    .node("ConvTranspose", List.of("x", "W", "B"), List.of("y"), Attribute.ofInts("pads", p), Attribute.ofInts("strides", 2, 2),
                            Attribute.ofInts("output_padding", outPad[t]))
                    .model();
            int oh = (int) ((h - 1) * 2 + k - p[0] - p[2] + outPad[t][0]), ow = (int) ((w - 1) * 2 + k - p[1] - p[3] + outPad[t][1]);
            assertArrayEquals(new int[] {co, oh, ow}, m.outputShape("y"), "case " + t);
            close(convTranspose(x, b, ci, h, w, wt, bias, co, k, 2, (int) p[0], (int) p[1], oh, ow), run(m, b, x, "y"), 1e-5,
                    "ConvTranspose pads " + java.util.Arrays.toString(p) + " output_padding " + java.util.Arrays.toString(outPad[t]));
        }
    }

    // ------------------------------------------------------------------ shapes and copies

    @Test
    void reshapeFlattenConcatSplitAndSliceMoveTheValuesAsSpecified() {
        int b = 2;
        float[] x = G.random(R, b * 2 * 3 * 4, -1, 1);   // (b, 2, 3, 4)
        OnnxModel m = new G().input("x", 2, 3, 4).output("flat", "r", "cat", "s0", "s1", "sl")
                .ints("shape", 0, -1, 4).ints("split", 1, 3).ints("st", 2, 3, -1).ints("en", 0, 0, Long.MIN_VALUE)
                .ints("ax", 3, 2, 1).ints("stp", -1, -2, -1)
                .node("Flatten", List.of("x"), List.of("flat"))
                .node("Reshape", List.of("x", "shape"), List.of("r"))                          // (b, 6, 4)
                .node("Concat", List.of("r", "r"), List.of("cat"), Attribute.ofInt("axis", -1))  // (b, 6, 8)
                .node("Split", List.of("x", "split"), List.of("s0", "s1"), Attribute.ofInt("axis", 3))
                .node("Slice", List.of("x", "st", "en", "ax", "stp"), List.of("sl"))            // reversed along 1 and 3, every other row
                .model();
        Map<String, float[]> got = m.run(b, x);
        assertArrayEquals(x, got.get("flat"));
        assertArrayEquals(new int[] {24}, m.outputShape("flat"));
        assertArrayEquals(x, got.get("r"));
        assertArrayEquals(new int[] {6, 4}, m.outputShape("r"));
        double[] cat = new double[b * 48], s0 = new double[b * 6], s1 = new double[b * 18];
        for (int s = 0; s < b; s++) {
            for (int r = 0; r < 6; r++) {
                for (int c = 0; c < 8; c++) {
                    cat[(s * 6 + r) * 8 + c] = x[(s * 6 + r) * 4 + c % 4];
                }
                s0[s * 6 + r] = x[(s * 6 + r) * 4];
                for (int c = 0; c < 3; c++) {
                    s1[(s * 6 + r) * 3 + c] = x[(s * 6 + r) * 4 + 1 + c];
                }
            }
        }
        close(cat, got.get("cat"), 0, "Concat");
        close(s0, got.get("s0"), 0, "Split 0");
        close(s1, got.get("s1"), 0, "Split 1");
        // Slice: axis 3 from 2 down to 0 exclusive (2, 1), axis 2 from 3 (clamped to 2) down by 2 to 0 exclusive (2), axis 1 from 1 down to the start (1, 0)
        assertArrayEquals(new int[] {2, 1, 2}, m.outputShape("sl"));
        double[] sl = new double[b * 4];
        int o = 0;
        for (int s = 0; s < b; s++) {
            for (int c1 : new int[] {1, 0}) {
                for (int c3 : new int[] {2, 1}) {
                    sl[o++] = x[((s * 2 + c1) * 3 + 2) * 4 + c3];
                }
            }
        }
        close(sl, got.get("sl"), 0, "Slice with negative steps");
    }

    @Test
    void constantsAreFoldedAtLoad() {
        int b = 3, w = 4;
        float[] x = G.random(R, b * w, -1, 1), a = G.random(R, w, -1, 1), c = G.random(R, w, -1, 1);
        // y = x * ((a + c) reshaped to (1, 4)) - Constant 0.5, the constant part computed once at load
        OnnxModel m = new G().input("x", w).output("y").init("a", new int[] {w}, a).init("c", new int[] {w}, c).ints("s", 1, 4)
                .node("Add", List.of("a", "c"), List.of("ac"))
                .node("Reshape", List.of("ac", "s"), List.of("row"))
                .node("Constant", List.of(), List.of("half"), Attribute.ofTensor("value", Tensor.ofFloats("half", new int[0], new float[] {0.5f})))
                .node("Identity", List.of("row"), List.of("row2"))
                .node("Mul", List.of("x", "row2"), List.of("m"))
                .node("Sub", List.of("m", "half"), List.of("y"))
                .model();
        assertTrue(m.describe().contains("1 folded into constants, 2 steps"), m.describe());
        double[] want = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            want[i] = x[i] * (double) (a[i % w] + c[i % w]) - 0.5;
        }
        close(want, run(m, b, x, "y"), 1e-6, "folded constants");
    }

    // ------------------------------------------------------------------ clip, pooling, resize, shape, expand

    @Test
    void clipWithBothBoundsOneBoundOrNone() {
        int b = 3, w = 7;
        float[] x = G.random(R, b * w, -2, 2);
        double[][] bounds = {{-0.5, 0.75}, {-0.25, Double.POSITIVE_INFINITY}, {Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY}};
        for (int k = 0; k < bounds.length; k++) {
            G g = new G().input("x", w).output("y").init("lo", new int[0], new float[] {(float) bounds[k][0]})
                    .init("hi", new int[0], new float[] {(float) bounds[k][1]});
            List<String> in = k == 0 ? List.of("x", "lo", "hi") : k == 1 ? List.of("x", "lo") : List.of("x");
            OnnxModel m = g.node("Clip", in, List.of("y")).model();
            double[] want = new double[b * w];
            for (int i = 0; i < want.length; i++) {
                want[i] = x[i] < bounds[k][0] ? bounds[k][0] : x[i] > bounds[k][1] ? bounds[k][1] : x[i];
            }
            close(want, run(m, b, x, "y"), 0, "Clip " + k);
        }
    }

    /** Pooling of (n, c, h, w) in the ONNX definition: windows at r s - pad, padded cells skipped (max) or counted as 0 (countPad). */
    static double[] pool(float[] x, int n, int c, int h, int w, boolean max, int kh, int kw, int sh, int sw, int pad, boolean countPad) {
        int oh = (h + 2 * pad - kh) / sh + 1, ow = (w + 2 * pad - kw) / sw + 1;
        double[] y = new double[n * c * oh * ow];
        int o = 0;
        for (int p = 0; p < n * c; p++) {
            for (int r = 0; r < oh; r++) {
                for (int q = 0; q < ow; q++) {
                    double best = Double.NEGATIVE_INFINITY, sum = 0;
                    int cells = 0;
                    for (int i = 0; i < kh; i++) {
                        for (int j = 0; j < kw; j++) {
                            int rr = r * sh - pad + i, cc = q * sw - pad + j;
                            if (rr >= 0 && rr < h && cc >= 0 && cc < w) {
                                double v = x[(p * h + rr) * w + cc];
                                best = Math.max(best, v);
                                sum += v;
                                cells++;
                            }
                        }
                    }
                    y[o++] = max ? best : sum / (countPad ? kh * kw : cells);
                }
            }
        }
        return y;
    }

    @Test
    void maxAndAveragePoolWithStridesPaddingAndOddSizes() {
        int b = 2, c = 3, h = 7, w = 6;
        float[] x = G.random(R, b * c * h * w, -1, 1);
        int[][] cases = {{2, 2, 2, 2, 0}, {3, 2, 2, 1, 1}, {3, 3, 1, 1, 1}, {2, 3, 3, 2, 0}};   // kh, kw, sh, sw, pad
        for (int[] k : cases) {
            for (String op : List.of("MaxPool", "AveragePool")) {
                for (int countPad = 0; countPad < (op.equals("AveragePool") ? 2 : 1); countPad++) {
                    List<Attribute> attrs = new java.util.ArrayList<>(List.of(Attribute.ofInts("kernel_shape", k[0], k[1]),
                            Attribute.ofInts("strides", k[2], k[3]), Attribute.ofInts("pads", k[4], k[4], k[4], k[4])));
                    if (op.equals("AveragePool")) {
                        attrs.add(Attribute.ofInt("count_include_pad", countPad));
                    }
                    OnnxModel m = new G().input("x", c, h, w).output("y").node(op, List.of("x"), List.of("y"), attrs.toArray(Attribute[]::new))
                            .model();
                    String what = op + " " + java.util.Arrays.toString(k) + " count_include_pad " + countPad;
                    int oh = (h + 2 * k[4] - k[0]) / k[2] + 1, ow = (w + 2 * k[4] - k[1]) / k[3] + 1;
                    assertArrayEquals(new int[] {c, oh, ow}, m.outputShape("y"), what);
                    close(pool(x, b, c, h, w, op.equals("MaxPool"), k[0], k[1], k[2], k[3], k[4], countPad == 1), run(m, b, x, "y"), 1e-6, what);
                }
            }
        }
    }

    @Test
    void poolingRefusesDilationsCeilModeAndUnequalPadsNamingTheNode() {
        Attribute kernel = Attribute.ofInts("kernel_shape", 2, 2);
        Attribute[][] bad = {{kernel, Attribute.ofInts("dilations", 2, 2)}, {kernel, Attribute.ofInt("ceil_mode", 1)},
            {kernel, Attribute.ofInts("pads", 0, 1, 0, 1)}, {kernel, Attribute.ofString("auto_pad", "SAME_UPPER")}, {}};
        String[] says = {"dilations", "ceil_mode 1", "pads [0, 1, 0, 1]", "auto_pad SAME_UPPER", "kernel_shape null"};
        for (int i = 0; i < bad.length; i++) {
            G g = new G().input("x", 1, 5, 5).output("y").node("MaxPool", List.of("x"), List.of("y"), bad[i]);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, g::model);
            assertTrue(e.getMessage().startsWith("node 0 (MaxPool '") && e.getMessage().contains(says[i]), e.getMessage());
        }
    }

    @Test
    void resizeNearestAsymmetricFloorByWholeFactors() {
        int b = 2, c = 2, h = 3, w = 5, fh = 2, fw = 3;
        float[] x = G.random(R, b * c * h * w, -1, 1);
        OnnxModel m = new G().input("x", c, h, w).output("y").init("scales", new int[] {4}, new float[] {1, 1, fh, fw})
                .node("Resize", List.of("x", "", "scales"), List.of("y"), Attribute.ofString("mode", "nearest"),
                        Attribute.ofString("coordinate_transformation_mode", "asymmetric"), Attribute.ofString("nearest_mode", "floor"))
                .model();
        assertArrayEquals(new int[] {c, h * fh, w * fw}, m.outputShape("y"));
        double[] want = new double[b * c * h * fh * w * fw];
        int o = 0;
        for (int p = 0; p < b * c; p++) {
            for (int r = 0; r < h * fh; r++) {
                for (int q = 0; q < w * fw; q++) {
                    want[o++] = x[(p * h + (int) Math.floor(r / (double) fh)) * w + (int) Math.floor(q / (double) fw)];   // x_original = x_resized / scale
                }
            }
        }
        close(want, run(m, b, x, "y"), 0, "Resize");
    }

    @Test
    void resizeRefusesOtherModesAndScalesNamingTheNode() {
        Attribute nearest = Attribute.ofString("mode", "nearest"), asym = Attribute.ofString("coordinate_transformation_mode", "asymmetric"),
                floor = Attribute.ofString("nearest_mode", "floor");
        Object[][] cases = {{new float[] {1, 1, 2, 2}, new Attribute[] {Attribute.ofString("mode", "linear"), asym, floor}, "mode linear"},
            {new float[] {1, 1, 2, 2}, new Attribute[] {nearest, floor}, "half_pixel"},
            {new float[] {1, 1, 2, 2}, new Attribute[] {nearest, asym}, "round_prefer_floor"},
            {new float[] {1, 1, 1.5f, 2}, new Attribute[] {nearest, asym, floor}, "scales [1.0, 1.0, 1.5, 2.0]"},
            {new float[] {2, 1, 2, 2}, new Attribute[] {nearest, asym, floor}, "scales [2.0"}};
        for (Object[] k : cases) {
            G g = new G().input("x", 1, 3, 3).output("y").init("s", new int[] {4}, (float[]) k[0])
                    .node("Resize", List.of("x", "", "s"), List.of("y"), (Attribute[]) k[1]);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, g::model);
            assertTrue(e.getMessage().startsWith("node 0 (Resize '") && e.getMessage().contains((String) k[2]), e.getMessage());
        }
    }

    @Test
    void expandOfAConstantToTheShapeOfABatchedValueFollowsTheBatch() {
        int w = 5;
        float[] row = G.random(R, w, -1, 1);
        OnnxModel m = new G().input("x", w).output("y", "z").init("row", new int[] {1, w}, row)
                .node("Shape", List.of("x"), List.of("s"))
                .node("Expand", List.of("row", "s"), List.of("e"))
                .node("Add", List.of("e", "x"), List.of("y"))
                .node("Identity", List.of("e"), List.of("z"))
                .model();
        for (int b : new int[] {1, 4}) {
            float[] x = G.random(R, b * w, -1, 1);
            Map<String, float[]> out = m.run(b, x);
            double[] want = new double[b * w], rows = new double[b * w];
            for (int i = 0; i < b * w; i++) {
                rows[i] = row[i % w];
                want[i] = x[i] + (double) row[i % w];
            }
            close(rows, out.get("z"), 0, "Expand batch " + b);
            close(want, out.get("y"), 1e-6, "Expand + x batch " + b);
        }
    }

    @Test
    void expandToAConstantShapeBroadcastsBothWaysAndTheBatchShapeIsReadByExpandOnly() {
        float[] col = G.random(R, 3, -1, 1);
        OnnxModel m = new G().input("x", 3, 4).output("y").init("col", new int[] {3, 1}, col).ints("shape", 1, 4)
                .node("Expand", List.of("col", "shape"), List.of("e"))
                .node("Mul", List.of("x", "e"), List.of("y"))
                .model();
        int b = 2;
        float[] x = G.random(R, b * 12, -1, 1);
        double[] want = new double[b * 12];
        for (int i = 0; i < want.length; i++) {
            want[i] = x[i] * (double) col[(i / 4) % 3];
        }
        close(want, run(m, b, x, "y"), 1e-6, "Expand (3,1) to (1,4)");
        G g = new G().input("x", 6).output("y").node("Shape", List.of("x"), List.of("s")).node("Reshape", List.of("x", "s"), List.of("y"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, g::model);
        assertTrue(e.getMessage().startsWith("node 1 (Reshape '") && e.getMessage().contains("Shape of a batched value"), e.getMessage());
    }
}
