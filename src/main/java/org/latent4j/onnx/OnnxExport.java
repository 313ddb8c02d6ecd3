package org.latent4j.onnx;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.dsl.LikelihoodSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.io.AtomicFiles;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.ConvShape;
import org.latent4j.kernel.Shape;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Scaling;
import org.latent4j.onnx.proto.Onnx;

/**
 * Writes a latent4j model as three ONNX graphs (opset {@value #OPSET}, IR version
 * {@value #IR_VERSION}), each with a dynamic batch dimension named {@code batch}:
 *
 * <ul>
 * <li>{@code encoder.onnx}: x (batch x the model's sample shape: features, or C x H x W) to
 * {@code mu} and {@code logvar} (a VAE, PPCA) or {@code code} (an autoencoder, PCA), as
 * {@link Autoencoder#encode} and {@link Autoencoder#encodeLogVariance} give them;</li>
 * <li>{@code decoder.onnx}: z (batch x latent) to {@code reconstruction}, the likelihood's mean
 * (the sigmoid of the logits for Bernoulli, the mean for Gaussian and Huber), as
 * {@link LatentModel#decode};</li>
 * <li>{@code reconstruct.onnx}: x to {@code reconstruction} through the latent mean, as
 * {@link LatentModel#reconstruct}.</li>
 * </ul>
 *
 * A conditional model's graphs take a second input {@code condition} (batch x its width). The
 * model's input scaling is folded in: x' = (x - offset) / scale as Sub and Div nodes before the
 * encoder (log1p: Log(x + 1) first), and y * scale + offset after the decoder (log1p: Exp(...) - 1),
 * with the offsets and scales in the sample's shape. Ops: Gemm (dense layers, transB = 1 on the
 * PyTorch-layout weight), Conv and ConvTranspose (square kernels, symmetric padding), MaxPool and
 * AveragePool, Resize (nearest, asymmetric, floor: the nearest-neighbour upsampling),
 * BatchNormalization (inference: the running statistics), Relu, LeakyRelu, Elu, Tanh, Sigmoid,
 * Softplus, Exp, Log, Clip (a clamped log-variance), Concat, Reshape, Add. Noise and dropout layers
 * are the identity at inference and are left out. PCA and PPCA are z = Gemm(x - mu, E) and
 * x = Gemm(z, W) + mu; PPCA's log-variance (the same for every row) is Expanded to the batch.
 * Initializers carry the model file's (PyTorch) tensor names and float32 values unchanged.
 */
public final class OnnxExport {
    private OnnxExport() {}

    public static final int OPSET = 17;
    /** The IR version of ONNX 1.12, the first with opset 17. */
    public static final int IR_VERSION = 8;
    public static final String BATCH = "batch";

    /** The three graphs of a model, by file name (encoder.onnx, decoder.onnx, reconstruct.onnx). */
    public static Map<String, Onnx.ModelProto> graphs(LatentModel model) {
        Map<String, Onnx.ModelProto> m = new LinkedHashMap<>();
        for (Part p : Part.values()) {
            m.put(p.file, graph(model, p));
        }
        return m;
    }

    /** Writes the three graphs into dir (made if missing), each atomically; returns the files written. */
    public static List<Path> write(LatentModel model, Path dir) throws IOException {
        Map<String, Onnx.ModelProto> gs = graphs(model);
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        for (Map.Entry<String, Onnx.ModelProto> e : gs.entrySet()) {
            Path f = dir.resolve(e.getKey());
            byte[] bytes = e.getValue().toByteArray();
            AtomicFiles.write(f, tmp -> Files.write(tmp, bytes));
            out.add(f);
        }
        return out;
    }

    /** Which graph. */
    public enum Part {
        ENCODER("encoder.onnx"), DECODER("decoder.onnx"), RECONSTRUCT("reconstruct.onnx");

        public final String file;

        Part(String file) {
            this.file = file;
        }
    }

    /** One graph of a model; an op ONNX cannot express is an IllegalArgumentException naming the layer. */
    public static Onnx.ModelProto graph(LatentModel model, Part part) {
        Builder b = new Builder();
        String name = model.kind() + " " + part.name().toLowerCase(Locale.ROOT);
        switch (model) {
            case Autoencoder a -> autoencoder(b, a, part);
            case LinearModel l -> linear(b, l, part);
            default -> throw new IllegalArgumentException("no ONNX export for a model of kind " + model.kind());
        }
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName(name).addAllNode(b.nodes).addAllInitializer(b.initializers.values())
                .addAllInput(b.inputs).addAllOutput(b.outputs);
        return Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("latent4j").setProducerVersion(version())
                .setDocString("latent4j " + model.kind() + ", " + part.file + ": " + model.inputDim() + " inputs, " + model.latentDim()
                        + " latent dimensions")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET)).setGraph(g).build();
    }

    private static String version() {
        Package p = OnnxExport.class.getPackage();
        return p != null && p.getImplementationVersion() != null ? p.getImplementationVersion() : "dev";
    }

    // ------------------------------------------------------------------ autoencoders

    private static void autoencoder(Builder b, Autoencoder m, Part part) {
        if (m.spec().latent() instanceof org.latent4j.dsl.LatentSpec.VectorQuantized
                || m.spec().latent() instanceof org.latent4j.dsl.LatentSpec.FiniteScalar) {
            throw new IllegalArgumentException("no ONNX export for a model with a discrete latent (" + m.spec().latent().kindName()
                    + "): the nearest-code search has no ONNX operator in this exporter yet");
        }
        Graph g = m.graph();
        float[] params = m.parameters();
        Shape sample = m.spec().sampleShape();
        Map<Integer, String> values = new HashMap<>();
        if (g.condition >= 0) {
            values.put(g.condition, b.input("condition", Shape.features(m.conditionDim())));
        }
        Emitter e = new Emitter(b, g, params, values);
        if (part != Part.DECODER) {
            String x = b.input("x", sample);
            values.put(g.input, scaleIn(b, x, m.inputScaling(), sample));
        } else {
            values.put(g.z, b.input("z", Shape.features(m.latentDim())));
        }
        if (part == Part.ENCODER) {
            if (m.spec().isVariational()) {
                b.output(b.identity(e.value(g.mu), "mu"), Shape.features(m.latentDim()));
                b.output(b.identity(e.value(g.logvar), "logvar"), Shape.features(m.latentDim()));
            } else {
                b.output(b.identity(e.value(g.code), "code"), Shape.features(m.latentDim()));
            }
            return;
        }
        if (part == Part.RECONSTRUCT) {
            // Through the latent mean: z = mu (a VAE's sampling step is left out), or the code.
            values.put(g.z, e.value(m.spec().isVariational() ? g.mu : g.code));
        }
        String out = e.value(g.output);
        if (m.spec().likelihood() instanceof LikelihoodSpec.Bernoulli) {
            out = b.node("Sigmoid", List.of(out), "decoder_mean");
        }
        Shape outShape = g.node(g.output).shape();
        if (!outShape.equals(sample)) {
            out = b.reshape(out, sample, "decoder_output_reshape");
        }
        out = scaleOut(b, out, m.inputScaling(), sample);
        b.output(b.identity(out, "reconstruction"), sample);
    }

    /** x' = (x - offset) / scale (log1p: of Log(x + 1)), the scaling's float32 offsets and scales in the sample's shape. */
    private static String scaleIn(Builder b, String x, Scaling s, Shape sample) {
        if (s.isNone()) {
            return x;
        }
        if (s.kind().equals("log1p")) {
            x = b.node("Log", List.of(b.node("Add", List.of(x, b.scalar("scaling.one", 1f)), "scaling_log1p_add")), "scaling_log1p");
        }
        String centred = b.node("Sub", List.of(x, b.initializer("scaling.offset", dims(sample), s.offset(), 0)), "scaling_sub");
        return b.node("Div", List.of(centred, b.initializer("scaling.scale", dims(sample), s.scale(), 0)), "scaling_div");
    }

    /** y * scale + offset (log1p: Exp(...) - 1), the inverse of {@link #scaleIn}. */
    private static String scaleOut(Builder b, String y, Scaling s, Shape sample) {
        if (s.isNone()) {
            return y;
        }
        String scaled = b.node("Mul", List.of(y, b.initializer("scaling.scale", dims(sample), s.scale(), 0)), "unscaling_mul");
        String v = b.node("Add", List.of(scaled, b.initializer("scaling.offset", dims(sample), s.offset(), 0)), "unscaling_add");
        if (s.kind().equals("log1p")) {
            v = b.node("Sub", List.of(b.node("Exp", List.of(v), "unscaling_exp"), b.scalar("scaling.one", 1f)), "unscaling_expm1");
        }
        return v;
    }

    private static long[] dims(Shape s) {
        return s.spatial() ? new long[] {s.channels(), s.height(), s.width()} : new long[] {s.size()};
    }

    /** Emits the ONNX nodes of a latent4j graph's nodes on demand (each once), from the values already given. */
    private static final class Emitter {
        final Builder b;
        final Graph g;
        final float[] params;
        final Map<Integer, String> values;

        Emitter(Builder b, Graph g, float[] params, Map<Integer, String> values) {
            this.b = b;
            this.g = g;
            this.params = params;
            this.values = values;
        }

        String weight(String name) {
            ParamSpec p = g.param(name);
            int[] shape = p.shape();
            long[] d = new long[shape.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = shape[i];
            }
            return b.initializer(name, d, params, p.offset());
        }

        String value(int id) {
            String v = values.get(id);
            if (v != null) {
                return v;
            }
            Node n = g.node(id);
            String tag = n.name().replaceAll("[^A-Za-z0-9_.]+", "_");
            v = switch (n.op()) {
                case Ops.Dense d -> activation(b.node("Gemm", List.of(value(n.input(0)), weight(n.params().get(0)), weight(n.params().get(1))),
                        tag + "_gemm", b.intAttr("transB", 1)), d.activation(), d.parameter(), tag);
                case Ops.MatMul _ -> b.node("Gemm", List.of(value(n.input(0)), weight(n.params().get(0))), tag + "_matmul", b.intAttr("transB", 1));
                case Ops.BiasAdd _ -> b.node("Add", List.of(value(n.input(0)), weight(n.params().get(0))), tag + "_bias");
                case Ops.Activate a -> activation(value(n.input(0)), a.activation(), a.parameter(), tag);
                case Ops.Noise _ -> value(n.input(0));          // off at inference
                case Ops.StopGradient _ -> value(n.input(0));
                case Ops.Clamp c -> b.node("Clip", List.of(value(n.input(0)), b.scalar(tag + ".min", c.min()), b.scalar(tag + ".max", c.max())),
                        tag + "_clip");
                case Ops.Concat _ -> {
                    List<String> in = new ArrayList<>();
                    for (int i : n.inputs()) {
                        in.add(value(i));
                    }
                    yield b.node("Concat", in, tag + "_concat", b.intAttr("axis", 1));
                }
                case Ops.ConcatPlanes _ -> {
                    // An image joined with its condition as constant planes: the condition (batch, k) reshaped to
                    // (batch, k, 1, 1), expanded to (batch, k, h, w) (Expand broadcasts both ways: the batch follows), then Concat.
                    Shape img = g.node(n.input(0)).shape();
                    int k = g.node(n.input(1)).width();
                    String planes = b.node("Expand", List.of(b.reshape(value(n.input(1)), Shape.image(k, 1, 1), tag + "_condition"),
                            b.int64s(tag + ".planes", 1, k, img.height(), img.width())), tag + "_planes");
                    yield b.node("Concat", List.of(value(n.input(0)), planes), tag + "_concat", b.intAttr("axis", 1));
                }
                case Ops.BatchNormalize bn -> b.node("BatchNormalization", List.of(value(n.input(0)), weight(n.params().get(0)),
                        weight(n.params().get(1)), weight(n.params().get(2)), weight(n.params().get(3))), tag + "_batchnorm",
                        b.floatAttr("epsilon", bn.epsilon()));
                case Ops.Conv c -> {
                    ConvShape s = c.geometry();
                    yield b.node(s.transposed() ? "ConvTranspose" : "Conv", List.of(value(n.input(0)), weight(n.params().get(0)),
                            weight(n.params().get(1))), tag + (s.transposed() ? "_conv_transpose" : "_conv"),
                            b.intsAttr("kernel_shape", s.kernelHeight(), s.kernelWidth()), b.intsAttr("strides", s.stride(), s.stride()),
                            b.intsAttr("pads", s.padding(), s.padding(), s.padding(), s.padding()));
                }
                case Ops.Pool p -> b.node(p.max() ? "MaxPool" : "AveragePool", List.of(value(n.input(0))), tag + (p.max() ? "_maxpool" : "_avgpool"),
                        b.intsAttr("kernel_shape", p.kernel(), p.kernel()), b.intsAttr("strides", p.stride(), p.stride()));
                case Ops.Upsample u -> b.node("Resize", List.of(value(n.input(0)), "", b.initializer(tag + ".scales", new long[] {4},
                        new float[] {1f, 1f, u.factor(), u.factor()}, 0)), tag + "_resize", b.stringAttr("mode", "nearest"),
                        b.stringAttr("coordinate_transformation_mode", "asymmetric"), b.stringAttr("nearest_mode", "floor"));
                case Ops.Reshape r -> b.reshape(value(n.input(0)), r.target(), tag + "_reshape");
                case Ops.Add _ -> b.node("Add", List.of(value(n.input(0)), value(n.input(1))), tag + "_add");
                default -> throw new IllegalArgumentException("layer " + n.name() + " (" + n.op().getClass().getSimpleName()
                        + ") has no ONNX export on the path to the graph's outputs");
            };
            values.put(id, v);
            return v;
        }

        String activation(String x, Activation a, float parameter, String tag) {
            return switch (a) {
                case IDENTITY -> x;
                case RELU -> b.node("Relu", List.of(x), tag + "_relu");
                case LEAKY_RELU -> b.node("LeakyRelu", List.of(x), tag + "_leaky_relu", b.floatAttr("alpha", parameter));
                case ELU -> b.node("Elu", List.of(x), tag + "_elu", b.floatAttr("alpha", parameter));
                case TANH -> b.node("Tanh", List.of(x), tag + "_tanh");
                case SIGMOID -> b.node("Sigmoid", List.of(x), tag + "_sigmoid");
                case SOFTPLUS -> b.node("Softplus", List.of(x), tag + "_softplus");
                case EXP -> b.node("Exp", List.of(x), tag + "_exp");
                case LOG -> b.node("Log", List.of(x), tag + "_log");
            };
        }
    }

    // ------------------------------------------------------------------ PCA and PPCA

    private static void linear(Builder b, LinearModel m, Part part) {
        int d = m.inputDim(), q = m.latentDim();
        String code = null;
        if (part != Part.DECODER) {
            String x = b.input("x", Shape.features(d));
            String centred = b.node("Sub", List.of(x, b.initializer("mean", new long[] {d}, m.mean(), 0)), "center");
            code = b.node("Gemm", List.of(centred, b.initializer("encoder.weight", new long[] {q, d}, m.encoderMatrix(), 0)), "encoder_gemm",
                    b.intAttr("transB", 1));
        }
        if (part == Part.ENCODER) {
            if (m.kind().equals("ppca")) {
                b.output(b.identity(code, "mu"), Shape.features(q));
                float[] lv = m.encodeLogVariance();
                String shape = b.node("Shape", List.of(code), "batch_shape");
                b.output(b.identity(b.node("Expand", List.of(b.initializer("posterior_logvar", new long[] {1, q}, lv, 0), shape), "logvar_expand"),
                        "logvar"), Shape.features(q));
            } else {
                b.output(b.identity(code, "code"), Shape.features(q));
            }
            return;
        }
        String z = part == Part.DECODER ? b.input("z", Shape.features(q)) : code;
        String x = b.node("Gemm", List.of(z, b.initializer("decoder.weight", new long[] {d, q}, m.decoderMatrix(), 0),
                b.initializer("decoder.bias", new long[] {d}, m.mean(), 0)), "decoder_gemm", b.intAttr("transB", 1));
        b.output(b.identity(x, "reconstruction"), Shape.features(d));
    }

    // ------------------------------------------------------------------ the graph under construction

    /** Nodes, initializers (each name once) and the graph's inputs and outputs. */
    static final class Builder {
        final List<Onnx.NodeProto> nodes = new ArrayList<>();
        final Map<String, Onnx.TensorProto> initializers = new LinkedHashMap<>();
        final List<Onnx.ValueInfoProto> inputs = new ArrayList<>();
        final List<Onnx.ValueInfoProto> outputs = new ArrayList<>();
        private final Map<String, Integer> used = new HashMap<>();

        /** A fresh value name from a tag. */
        String fresh(String tag) {
            int k = used.merge(tag, 1, Integer::sum);
            return k == 1 ? tag : tag + "_" + k;
        }

        String node(String op, List<String> in, String tag, Onnx.AttributeProto... attributes) {
            String out = fresh(tag);
            nodes.add(Onnx.NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(in).addOutput(out).addAllAttribute(List.of(attributes))
                    .build());
            return out;
        }

        /** The value under a chosen name (an output's), through Identity when it already has another. */
        String identity(String value, String name) {
            used.merge(name, 1, Integer::sum);
            nodes.add(Onnx.NodeProto.newBuilder().setOpType("Identity").setName(name).addInput(value).addOutput(name).build());
            return name;
        }

        String reshape(String x, Shape target, String tag) {
            long[] t = dims(target);
            long[] shape = new long[t.length + 1];
            System.arraycopy(t, 0, shape, 1, t.length);   // shape[0] = 0: the batch dimension is copied
            Onnx.TensorProto.Builder s = Onnx.TensorProto.newBuilder().setName(fresh(tag + ".shape")).setDataType(Onnx.TensorProto.DataType.INT64_VALUE)
                    .addDims(shape.length);
            for (long v : shape) {
                s.addInt64Data(v);
            }
            initializers.put(s.getName(), s.build());
            return node("Reshape", List.of(x, s.getName()), tag);
        }

        /** A 1-D int64 initializer holding these values (a shape operand), under a fresh name made from tag. */
        String int64s(String tag, long... values) {
            Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(fresh(tag)).setDataType(Onnx.TensorProto.DataType.INT64_VALUE)
                    .addDims(values.length);
            for (long v : values) {
                t.addInt64Data(v);
            }
            initializers.put(t.getName(), t.build());
            return t.getName();
        }

        /** A float32 initializer of these dims from data[offset...] (raw little-endian data); the same name twice is one tensor. */
        String initializer(String name, long[] dims, float[] data, int offset) {
            if (initializers.containsKey(name)) {
                return name;
            }
            long n = 1;
            for (long v : dims) {
                n *= v;
            }
            ByteBuffer bb = ByteBuffer.allocate(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                bb.putFloat(data[offset + i]);
            }
            bb.flip();
            Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE)
                    .setRawData(ByteString.copyFrom(bb));
            for (long v : dims) {
                t.addDims(v);
            }
            initializers.put(name, t.build());
            used.merge(name, 1, Integer::sum);
            return name;
        }

        String scalar(String name, float v) {
            return initializer(name, new long[0], new float[] {v}, 0);
        }

        String input(String name, Shape sample) {
            inputs.add(valueInfo(name, sample));
            used.merge(name, 1, Integer::sum);
            return name;
        }

        void output(String name, Shape sample) {
            outputs.add(valueInfo(name, sample));
        }

        static Onnx.ValueInfoProto valueInfo(String name, Shape sample) {
            Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder()
                    .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH));
            for (long d : dims(sample)) {
                s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(
                    Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
        }

        Onnx.AttributeProto intAttr(String name, long v) {
            return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(v).build();
        }

        Onnx.AttributeProto floatAttr(String name, float v) {
            return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT).setF(v).build();
        }

        Onnx.AttributeProto intsAttr(String name, long... v) {
            Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INTS);
            for (long x : v) {
                a.addInts(x);
            }
            return a.build();
        }

        Onnx.AttributeProto stringAttr(String name, String v) {
            return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFromUtf8(v)).build();
        }
    }
}
