package org.latent4j.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.onnx.proto.Onnx;

/**
 * A scalar double-precision interpreter of ONNX graphs, written from the operator definitions of
 * the ONNX specification (opset 17) and independent of latent4j's kernels: the test's reference
 * for what an exported graph computes. Only the operators and attribute forms the exporter may
 * write are implemented; anything else fails loudly.
 */
final class OnnxReference {
    /** A tensor: its shape and values in row-major order. */
    record T(long[] shape, double[] v) {
        int size() {
            return v.length;
        }
    }

    private OnnxReference() {}

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    static T tensor(Onnx.TensorProto t) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        int n = (int) count(dims);
        double[] v = new double[n];
        switch (t.getDataType()) {
            case Onnx.TensorProto.DataType.FLOAT_VALUE -> {
                if (!t.getRawData().isEmpty()) {
                    ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                    if (b.remaining() != 4 * n) {
                        throw new AssertionError(t.getName() + ": raw data of " + b.remaining() + " bytes for " + n + " floats");
                    }
                    for (int i = 0; i < n; i++) {
                        v[i] = b.getFloat(4 * i);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        v[i] = t.getFloatData(i);
                    }
                }
            }
            case Onnx.TensorProto.DataType.INT64_VALUE -> {
                for (int i = 0; i < n; i++) {
                    v[i] = t.getInt64Data(i);
                }
            }
            default -> throw new AssertionError(t.getName() + ": data type " + t.getDataType());
        }
        return new T(dims, v);
    }

    /** Runs the graph on the named inputs; returns every graph output by name. */
    static Map<String, T> run(Onnx.ModelProto model, Map<String, T> inputs) {
        Onnx.GraphProto g = model.getGraph();
        Map<String, T> env = new HashMap<>();
        for (Onnx.TensorProto t : g.getInitializerList()) {
            env.put(t.getName(), tensor(t));
        }
        env.putAll(inputs);
        for (Onnx.NodeProto n : g.getNodeList()) {
            List<T> in = new ArrayList<>();
            for (String s : n.getInputList()) {
                if (s.isEmpty()) {
                    in.add(null);
                } else {
                    T t = env.get(s);
                    if (t == null) {
                        throw new AssertionError(n.getName() + ": input " + s + " is not computed before it");
                    }
                    in.add(t);
                }
            }
            if (n.getOutputCount() != 1) {
                throw new AssertionError(n.getName() + ": one output expected");
            }
            env.put(n.getOutput(0), op(n, in));
        }
        Map<String, T> out = new HashMap<>();
        for (Onnx.ValueInfoProto o : g.getOutputList()) {
            out.put(o.getName(), env.get(o.getName()));
        }
        return out;
    }

    static Onnx.AttributeProto attr(Onnx.NodeProto n, String name) {
        for (Onnx.AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    static long intAttr(Onnx.NodeProto n, String name, long dflt) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? dflt : a.getI();
    }

    static double floatAttr(Onnx.NodeProto n, String name, double dflt) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? dflt : a.getF();
    }

    static long[] intsAttr(Onnx.NodeProto n, String name) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    static String stringAttr(Onnx.NodeProto n, String name, String dflt) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? dflt : a.getS().toStringUtf8();
    }

    static T map(T x, java.util.function.DoubleUnaryOperator f) {
        double[] v = new double[x.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = f.applyAsDouble(x.v()[i]);
        }
        return new T(x.shape(), v);
    }

    static T op(Onnx.NodeProto n, List<T> in) {
        T x = in.get(0);
        return switch (n.getOpType()) {
            case "Identity" -> x;
            case "Relu" -> map(x, v -> Math.max(v, 0));
            case "LeakyRelu" -> {
                double a = floatAttr(n, "alpha", 0.01);
                yield map(x, v -> v >= 0 ? v : a * v);
            }
            case "Elu" -> {
                double a = floatAttr(n, "alpha", 1.0);
                yield map(x, v -> v >= 0 ? v : a * (Math.exp(v) - 1));
            }
            case "Tanh" -> map(x, Math::tanh);
            case "Sigmoid" -> map(x, v -> 1 / (1 + Math.exp(-v)));
            case "Softplus" -> map(x, v -> Math.log(Math.exp(v) + 1));
            case "Exp" -> map(x, Math::exp);
            case "Log" -> map(x, Math::log);
            case "Clip" -> {
                double lo = in.get(1).v()[0], hi = in.get(2).v()[0];
                yield map(x, v -> Math.min(Math.max(v, lo), hi));
            }
            case "Add" -> broadcast(x, in.get(1), Double::sum);
            case "Sub" -> broadcast(x, in.get(1), (a, b) -> a - b);
            case "Mul" -> broadcast(x, in.get(1), (a, b) -> a * b);
            case "Div" -> broadcast(x, in.get(1), (a, b) -> a / b);
            case "Gemm" -> gemm(n, in);
            case "Concat" -> concat(in, (int) intAttr(n, "axis", Long.MIN_VALUE));
            case "Reshape" -> reshape(x, in.get(1));
            case "Shape" -> {
                double[] v = new double[x.shape().length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = x.shape()[i];
                }
                yield new T(new long[] {v.length}, v);
            }
            case "Expand" -> {
                long[] target = new long[in.get(1).size()];
                for (int i = 0; i < target.length; i++) {
                    target[i] = (long) in.get(1).v()[i];
                }
                yield broadcast(x, new T(target, new double[(int) count(target)]), (a, b) -> a);
            }
            case "BatchNormalization" -> batchNorm(n, in);
            case "Conv" -> conv(n, in, false);
            case "ConvTranspose" -> conv(n, in, true);
            case "MaxPool", "AveragePool" -> pool(n, x, n.getOpType().equals("MaxPool"));
            case "Resize" -> resize(n, in);
            default -> throw new AssertionError("the reference has no " + n.getOpType() + " (node " + n.getName() + ")");
        };
    }

    /** Multidirectional (numpy) broadcasting of a binary operator. */
    static T broadcast(T a, T b, java.util.function.DoubleBinaryOperator f) {
        int r = Math.max(a.shape().length, b.shape().length);
        long[] sa = pad(a.shape(), r), sb = pad(b.shape(), r), s = new long[r];
        for (int i = 0; i < r; i++) {
            if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1) {
                throw new AssertionError("shapes " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()) + " do not broadcast");
            }
            s[i] = Math.max(sa[i], sb[i]);
        }
        int n = (int) count(s);
        double[] v = new double[n];
        long[] idx = new long[r];
        for (int k = 0; k < n; k++) {
            long rem = k;
            for (int i = r - 1; i >= 0; i--) {
                idx[i] = rem % s[i];
                rem /= s[i];
            }
            v[k] = f.applyAsDouble(a.v()[offset(idx, sa)], b.v()[offset(idx, sb)]);
        }
        return new T(s, v);
    }

    static long[] pad(long[] s, int r) {
        long[] p = new long[r];
        Arrays.fill(p, 1);
        System.arraycopy(s, 0, p, r - s.length, s.length);
        return p;
    }

    static int offset(long[] idx, long[] shape) {
        long o = 0;
        for (int i = 0; i < shape.length; i++) {
            o = o * shape[i] + (shape[i] == 1 ? 0 : idx[i]);
        }
        return (int) o;
    }

    /** Y = alpha A' B' + beta C with A' = A or A^T (transA), B' likewise (transB), C broadcast. */
    static T gemm(Onnx.NodeProto n, List<T> in) {
        T a = in.get(0), b = in.get(1);
        boolean ta = intAttr(n, "transA", 0) == 1, tb = intAttr(n, "transB", 0) == 1;
        double alpha = floatAttr(n, "alpha", 1), beta = floatAttr(n, "beta", 1);
        int m = (int) (ta ? a.shape()[1] : a.shape()[0]), k = (int) (ta ? a.shape()[0] : a.shape()[1]);
        int kb = (int) (tb ? b.shape()[1] : b.shape()[0]), nn = (int) (tb ? b.shape()[0] : b.shape()[1]);
        if (k != kb) {
            throw new AssertionError(n.getName() + ": inner dimensions " + k + " and " + kb);
        }
        double[] y = new double[m * nn];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < nn; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a.v()[p * m + i] : a.v()[i * k + p];
                    double bv = tb ? b.v()[j * k + p] : b.v()[p * nn + j];
                    s += av * bv;
                }
                y[i * nn + j] = alpha * s;
            }
        }
        T out = new T(new long[] {m, nn}, y);
        if (in.size() > 2 && in.get(2) != null) {
            T c = in.get(2);
            out = broadcast(out, c, (p, q) -> p + beta * q);
        }
        return out;
    }

    static T concat(List<T> in, int axis) {
        if (axis != 1 || in.stream().anyMatch(t -> t.shape().length != 2)) {
            throw new AssertionError("the reference concatenates matrices along axis 1 only");
        }
        int rows = (int) in.get(0).shape()[0], cols = 0;
        for (T t : in) {
            cols += (int) t.shape()[1];
        }
        double[] v = new double[rows * cols];
        int at = 0;
        for (T t : in) {
            int w = (int) t.shape()[1];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(t.v(), r * w, v, r * cols + at, w);
            }
            at += w;
        }
        return new T(new long[] {rows, cols}, v);
    }

    /** Reshape with 0 (copy the input's dimension) and -1 (the rest). */
    static T reshape(T x, T shape) {
        long[] s = new long[shape.size()];
        int minus = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            s[i] = (long) shape.v()[i];
            if (s[i] == 0) {
                s[i] = x.shape()[i];
            }
            if (s[i] == -1) {
                minus = i;
            } else {
                known *= s[i];
            }
        }
        if (minus >= 0) {
            s[minus] = x.size() / known;
        }
        if (count(s) != x.size()) {
            throw new AssertionError("cannot reshape " + Arrays.toString(x.shape()) + " to " + Arrays.toString(s));
        }
        return new T(s, x.v());
    }

    /** Inference: y = scale (x - mean) / sqrt(var + epsilon) + bias, per channel (dimension 1). */
    static T batchNorm(Onnx.NodeProto n, List<T> in) {
        T x = in.get(0);
        double eps = floatAttr(n, "epsilon", 1e-5);
        int batch = (int) x.shape()[0], ch = (int) x.shape()[1], plane = x.size() / (batch * ch);
        double[] y = new double[x.size()];
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < ch; c++) {
                double scale = in.get(1).v()[c], bias = in.get(2).v()[c], mean = in.get(3).v()[c], var = in.get(4).v()[c];
                for (int p = 0; p < plane; p++) {
                    int i = (b * ch + c) * plane + p;
                    y[i] = scale * (x.v()[i] - mean) / Math.sqrt(var + eps) + bias;
                }
            }
        }
        return new T(x.shape(), y);
    }

    /**
     * Conv: y[n, o, i, j] = b[o] + sum over c, u, v of x[n, c, i s + u - p, j s + v - p] w[o, c, u, v];
     * ConvTranspose: y[n, o, i s + u - p, j s + v - p] += x[n, c, i, j] w[c, o, u, v], out = (in - 1) s + k - 2p.
     */
    static T conv(Onnx.NodeProto n, List<T> in, boolean transposed) {
        T x = in.get(0), w = in.get(1), bias = in.size() > 2 ? in.get(2) : null;
        long[] k = intsAttr(n, "kernel_shape"), st = intsAttr(n, "strides"), pads = intsAttr(n, "pads");
        if (intAttr(n, "group", 1) != 1 || attr(n, "dilations") != null || attr(n, "output_padding") != null) {
            throw new AssertionError(n.getName() + ": the reference has no groups, dilations or output padding");
        }
        int kh = (int) k[0], kw = (int) k[1], sh = (int) st[0], sw = (int) st[1], ph = (int) pads[0], pw = (int) pads[1];
        if (pads[2] != ph || pads[3] != pw || w.shape()[2] != kh || w.shape()[3] != kw) {
            throw new AssertionError(n.getName() + ": asymmetric pads or a kernel_shape unlike the weight's");
        }
        int batch = (int) x.shape()[0], cin = (int) x.shape()[1], h = (int) x.shape()[2], wd = (int) x.shape()[3];
        int cout = (int) (transposed ? w.shape()[1] : w.shape()[0]);
        int oh = transposed ? (h - 1) * sh + kh - 2 * ph : (h + 2 * ph - kh) / sh + 1;
        int ow = transposed ? (wd - 1) * sw + kw - 2 * pw : (wd + 2 * pw - kw) / sw + 1;
        double[] y = new double[batch * cout * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < cout; o++) {
                for (int i = 0; i < oh * ow; i++) {
                    y[(b * cout + o) * oh * ow + i] = bias == null ? 0 : bias.v()[o];
                }
            }
            for (int c = 0; c < cin; c++) {
                for (int o = 0; o < cout; o++) {
                    for (int u = 0; u < kh; u++) {
                        for (int v = 0; v < kw; v++) {
                            double wv = transposed ? w.v()[((c * cout + o) * kh + u) * kw + v] : w.v()[((o * cin + c) * kh + u) * kw + v];
                            if (!transposed) {
                                for (int i = 0; i < oh; i++) {
                                    int yi = i * sh + u - ph;
                                    if (yi < 0 || yi >= h) {
                                        continue;
                                    }
                                    for (int j = 0; j < ow; j++) {
                                        int xj = j * sw + v - pw;
                                        if (xj >= 0 && xj < wd) {
                                            y[((b * cout + o) * oh + i) * ow + j] += x.v()[((b * cin + c) * h + yi) * wd + xj] * wv;
                                        }
                                    }
                                }
                            } else {
                                for (int i = 0; i < h; i++) {
                                    int yi = i * sh + u - ph;
                                    if (yi < 0 || yi >= oh) {
                                        continue;
                                    }
                                    for (int j = 0; j < wd; j++) {
                                        int yj = j * sw + v - pw;
                                        if (yj >= 0 && yj < ow) {
                                            y[((b * cout + o) * oh + yi) * ow + yj] += x.v()[((b * cin + c) * h + i) * wd + j] * wv;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new T(new long[] {batch, cout, oh, ow}, y);
    }

    /** Max or average over kernel windows moved by strides; no padding, floor. */
    static T pool(Onnx.NodeProto n, T x, boolean max) {
        long[] k = intsAttr(n, "kernel_shape"), st = intsAttr(n, "strides");
        if (attr(n, "pads") != null || intAttr(n, "ceil_mode", 0) != 0) {
            throw new AssertionError(n.getName() + ": the reference pools without padding, rounding down");
        }
        int batch = (int) x.shape()[0], ch = (int) x.shape()[1], h = (int) x.shape()[2], w = (int) x.shape()[3];
        int kh = (int) k[0], kw = (int) k[1], sh = (int) st[0], sw = (int) st[1];
        int oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1;
        double[] y = new double[batch * ch * oh * ow];
        for (int bc = 0; bc < batch * ch; bc++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int u = 0; u < kh; u++) {
                        for (int v = 0; v < kw; v++) {
                            double xv = x.v()[(bc * h + i * sh + u) * w + j * sw + v];
                            acc = max ? Math.max(acc, xv) : acc + xv;
                        }
                    }
                    y[(bc * oh + i) * ow + j] = max ? acc : acc / (kh * kw);
                }
            }
        }
        return new T(new long[] {batch, ch, oh, ow}, y);
    }

    /** Resize, nearest mode with the asymmetric transformation (x_in = x_out / scale) and floor rounding. */
    static T resize(Onnx.NodeProto n, List<T> in) {
        T x = in.get(0), scales = in.get(2);
        if (!stringAttr(n, "mode", "nearest").equals("nearest") || !stringAttr(n, "coordinate_transformation_mode", "half_pixel").equals("asymmetric")
                || !stringAttr(n, "nearest_mode", "round_prefer_floor").equals("floor")) {
            throw new AssertionError(n.getName() + ": the reference resizes nearest, asymmetric, floor only");
        }
        int r = x.shape().length;
        long[] s = new long[r];
        for (int i = 0; i < r; i++) {
            s[i] = (long) Math.floor(x.shape()[i] * scales.v()[i]);
        }
        double[] y = new double[(int) count(s)];
        long[] idx = new long[r], src = new long[r];
        for (int k = 0; k < y.length; k++) {
            long rem = k;
            for (int i = r - 1; i >= 0; i--) {
                idx[i] = rem % s[i];
                rem /= s[i];
                src[i] = Math.min((long) Math.floor(idx[i] / scales.v()[i]), x.shape()[i] - 1);
            }
            y[k] = x.v()[offset(src, x.shape())];
        }
        return new T(s, y);
    }
}
