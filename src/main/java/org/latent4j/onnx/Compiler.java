package org.latent4j.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.ConvShape;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.onnx.OnnxGraph.Attribute;
import org.latent4j.onnx.OnnxGraph.AttributeKind;
import org.latent4j.onnx.OnnxGraph.Node;
import org.latent4j.onnx.OnnxGraph.Tensor;
import org.latent4j.onnx.OnnxGraph.ValueInfo;
import org.latent4j.onnx.Steps.Operand;
import org.latent4j.onnx.Steps.Step;

/**
 * Compiles an {@link OnnxGraph} into a static {@link Plan}: every shape inferred and checked,
 * every node whose inputs are all constants evaluated once (constant folding), the rest a list
 * of {@link Steps} over buffers ("slots"), with Reshape, Flatten and Identity as renamed buffers,
 * an activation after Gemm, MatMul, Conv or ConvTranspose fused into that step, a constant row
 * added after a MatMul fused as its bias, and any other activation run in place when nothing
 * else reads its input. Every operator is checked against the supported set before anything
 * else happens, so an unsupported one is refused before any work; every error is an
 * {@link IllegalArgumentException} naming the node (index, operator, name) and the problem.
 *
 * <p>The batch: the first dimension of every graph input is the batch (whatever the file
 * declares there), and every computed value keeps it as its first dimension; an operator that
 * would mix it with others (a Reshape or Flatten across it, a Concat, Split or partial Slice
 * along it, broadcasting it against a fixed size) is refused at load. The one value that holds the
 * batch size is the Shape of a batched value: it is kept as a constant marked {@code batchShape}
 * and read as Expand's shape only (PPCA's log-variance row Expanded to the batch), anything else
 * reading it is refused.
 */
final class Compiler {
    /** The default operator set versions latent4j reads (13: Split, Slice and Reshape with their inputs as today). */
    static final long MIN_OPSET = 13, MAX_OPSET = 23;

    /** The supported operators of the default domain. */
    static final Set<String> SUPPORTED = Set.of("Gemm", "MatMul", "Add", "Mul", "Sub", "Div", "Relu", "LeakyRelu", "Elu", "Sigmoid",
            "Tanh", "Softplus", "Exp", "Log", "Conv", "ConvTranspose", "BatchNormalization", "Reshape", "Flatten", "Concat", "Split",
            "Slice", "Identity", "Constant", "Clip", "MaxPool", "AveragePool", "Resize", "Shape", "Expand");

    /** Largest tensor constant folding may make (floats), and largest computed value per sample (floats). */
    static final long MAX_FOLDED = 1L << 24, MAX_PER_SAMPLE = 1L << 26;

    /** A compiled graph input or output: its name, dims (the first the batch) and buffer. */
    record Port(String name, int[] dims, int slot) {
        int perSample() {
            return (int) Shapes.count(dims, name);
        }
    }

    /** What {@link OnnxModel} runs: the steps in order, floats per sample of each slot, the ports. */
    record Plan(List<Step> steps, long[] slotFloats, List<Port> inputs, List<Port> outputs, long opset, String summary) {}

    /** A value of the graph: a constant (tensor) or a computed batch in a slot. */
    private static final class Value {
        final String name;
        final int[] dims;
        final Tensor constant;
        final int slot;
        int consumers;
        boolean graphOutput;
        boolean graphInput;
        /** Whether it is the Shape of a batched value: int64 dims whose first entry, the batch, is known only at run time. */
        boolean batchShape;
        /** Index in the step list of the step that wrote it, or -1. */
        int producer = -1;

        Value(String name, int[] dims, Tensor constant, int slot) {
            this.name = name;
            this.dims = dims;
            this.constant = constant;
            this.slot = slot;
        }

        boolean isConstant() {
            return constant != null;
        }
    }

    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<Long> slotFloats = new ArrayList<>();
    private final List<Integer> slotRefs = new ArrayList<>();
    private final Map<String, Integer> opCounts = new java.util.TreeMap<>();
    private int folded;
    private int fused;
    private final Steps.Workspace foldSpace = new Steps.Workspace(Parallelism.serial());

    private Compiler() {}

    /** The plan of a graph, or an {@link IllegalArgumentException} naming the node and the problem. */
    static Plan compile(OnnxGraph g) {
        return new Compiler().run(g);
    }

    private Plan run(OnnxGraph g) {
        if (g.opset() < MIN_OPSET) {
            throw new IllegalArgumentException("the model imports opset " + g.opset() + " of the default ONNX domain; latent4j reads opsets "
                    + MIN_OPSET + " to " + MAX_OPSET + " (re-export it with opset_version=" + MIN_OPSET + " or newer)");
        }
        if (g.opset() > MAX_OPSET) {
            throw new IllegalArgumentException("the model imports opset " + g.opset() + " of the default ONNX domain; latent4j reads opsets "
                    + MIN_OPSET + " to " + MAX_OPSET);
        }
        // Refuse what cannot run before doing anything else.
        for (Node n : g.nodes()) {
            if (!(n.domain().isEmpty() || n.domain().equals("ai.onnx"))) {
                throw new IllegalArgumentException(n.describe() + ": operator " + n.opType() + " of domain '" + n.domain()
                        + "' is not supported (latent4j runs the default ONNX domain's " + String.join(", ", sortedSupported()) + ")");
            }
            if (!SUPPORTED.contains(n.opType())) {
                throw new IllegalArgumentException(n.describe() + ": operator " + n.opType() + " is not supported (latent4j runs "
                        + String.join(", ", sortedSupported()) + ")");
            }
        }
        for (Node n : g.nodes()) {
            for (String i : n.inputs()) {
                consumers.merge(i, 1, Integer::sum);
            }
        }
        for (ValueInfo o : g.outputs()) {
            graphOutputs.add(o.name());
        }
        for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
            values.put(e.getKey(), constant(e.getValue()));
        }
        List<Port> inputs = new ArrayList<>();
        for (ValueInfo in : g.inputs()) {
            if (values.containsKey(in.name())) {
                throw new IllegalArgumentException("graph input '" + in.name() + "' is declared twice");
            }
            int[] dims = inputDims(in);
            Value v = computed(in.name(), dims, newSlot(dims));
            v.graphInput = true;
            values.put(in.name(), v);
            inputs.add(new Port(in.name(), dims, v.slot));
        }
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("the graph has no input (besides its initializers)");
        }
        for (Node n : g.nodes()) {
            opCounts.merge(n.opType(), 1, Integer::sum);
            try {
                node(n);
            } catch (IllegalArgumentException e) {
                throw e.getMessage() != null && e.getMessage().startsWith("node ") ? e
                        : new IllegalArgumentException(n.describe() + ": " + e.getMessage(), e);
            }
        }
        List<Port> outputs = new ArrayList<>();
        if (g.outputs().isEmpty()) {
            throw new IllegalArgumentException("the graph has no output");
        }
        for (ValueInfo o : g.outputs()) {
            Value v = values.get(o.name());
            if (v == null) {
                throw new IllegalArgumentException("graph output '" + o.name() + "' is computed by no node");
            }
            if (v.isConstant()) {
                throw new IllegalArgumentException("graph output '" + o.name() + "' is a constant: it does not depend on the inputs");
            }
            if (o.dims() != null) {
                boolean fits = o.dims().length == v.dims.length;
                for (int i = 1; fits && i < v.dims.length; i++) {
                    fits = o.dims()[i] == -1 || o.dims()[i] == v.dims[i];
                }
                if (!fits) {
                    throw new IllegalArgumentException("graph output '" + o.name() + "' is declared " + Shapes.describe(declared(o.dims()))
                            + " but the graph computes " + Shapes.describe(v.dims));
                }
            }
            outputs.add(new Port(o.name(), v.dims, v.slot));
        }
        long[] floats = new long[slotFloats.size()];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = slotFloats.get(i);
        }
        String summary = g.nodes().size() + " nodes " + opCounts + ", " + folded + " folded into constants, " + steps.size() + " steps ("
                + fused + " fusions), " + floats.length + " buffers";
        return new Plan(List.copyOf(steps), floats, List.copyOf(inputs), List.copyOf(outputs), g.opset(), summary);
    }

    private static List<String> sortedSupported() {
        return SUPPORTED.stream().sorted().toList();
    }

    private static int[] declared(int[] dims) {
        int[] d = dims.clone();
        if (d.length > 0) {
            d[0] = Shapes.BATCH;
        }
        return d;
    }

    private static int[] inputDims(ValueInfo in) {
        if (in.dims() == null) {
            throw new IllegalArgumentException("graph input '" + in.name() + "' declares no shape; latent4j needs (batch, ...) with every other "
                    + "dimension fixed");
        }
        if (in.dims().length == 0) {
            throw new IllegalArgumentException("graph input '" + in.name() + "' is a scalar; latent4j needs a batch dimension first");
        }
        int[] dims = in.dims().clone();
        dims[0] = Shapes.BATCH;
        for (int i = 1; i < dims.length; i++) {
            if (dims[i] < 1) {
                throw new IllegalArgumentException("graph input '" + in.name() + "' has a " + (dims[i] == -1 ? "symbolic" : "zero")
                        + " dimension " + i + "; latent4j needs every dimension but the first (the batch) fixed and positive");
            }
        }
        checkPerSample(dims, "graph input '" + in.name() + "'");
        return dims;
    }

    private static void checkPerSample(int[] dims, String what) {
        long n = Shapes.count(dims, what);
        if (n > MAX_PER_SAMPLE) {
            throw new IllegalArgumentException(what + " would hold " + n + " floats per sample, more than latent4j's limit of " + MAX_PER_SAMPLE);
        }
        if (n == 0) {
            throw new IllegalArgumentException(what + " would be empty " + Shapes.describe(dims));
        }
    }

    private Value constant(Tensor t) {
        return new Value(t.name(), t.dims(), t, -1);
    }

    private Value computed(String name, int[] dims, int slot) {
        return new Value(name, dims, null, slot);
    }

    private int newSlot(int[] dims) {
        slotFloats.add(Shapes.count(dims, "buffer"));
        slotRefs.add(1);
        return slotFloats.size() - 1;
    }

    // ------------------------------------------------------------------ per node

    private Value in(Node n, int k) {
        if (k >= n.inputs().size() || n.inputs().get(k).isEmpty()) {
            throw new IllegalArgumentException(n.describe() + ": input " + k + " is missing");
        }
        return lookUp(n, n.inputs().get(k));
    }

    private Value optionalIn(Node n, int k) {
        return k >= n.inputs().size() || n.inputs().get(k).isEmpty() ? null : lookUp(n, n.inputs().get(k));
    }

    private Value lookUp(Node n, String name) {
        Value v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException(n.describe() + ": input '" + name + "' is computed by no earlier node and is no initializer "
                    + "or graph input");
        }
        return v;
    }

    private void define(Node n, int k, Value v) {
        if (k >= n.outputs().size() || n.outputs().get(k).isEmpty()) {
            return; // an output nobody asked for
        }
        String name = n.outputs().get(k);
        if (values.containsKey(name)) {
            throw new IllegalArgumentException(n.describe() + ": output '" + name + "' is defined twice");
        }
        Value named = v.name.equals(name) ? v : v.isConstant() ? constant(renamed(v.constant, name)) : computed(name, v.dims, v.slot);
        named.producer = v.producer;
        named.consumers = consumers.getOrDefault(name, 0);
        named.graphOutput = graphOutputs.contains(name);
        values.put(name, named);
    }

    private static Tensor renamed(Tensor t, String name) {
        return new Tensor(name, t.dims(), t.floats(), t.longs());
    }

    /** The value with other dims on the same data or buffer (Reshape, Flatten, Identity). */
    private Value alias(Value v, int[] dims, String name) {
        if (v.isConstant()) {
            return constant(new Tensor(name, dims, v.constant.floats(), v.constant.longs()));
        }
        slotRefs.set(v.slot, slotRefs.get(v.slot) + 1);
        return computed(name, dims, v.slot);
    }

    private static Attribute attribute(Node n, String name, AttributeKind kind) {
        Attribute a = n.attributes().get(name);
        if (a != null && a.kind() != kind) {
            throw new IllegalArgumentException(n.describe() + ": attribute " + name + " must be of type " + kind + ", got " + a.kind());
        }
        return a;
    }

    private static long intAttr(Node n, String name, long otherwise) {
        Attribute a = attribute(n, name, AttributeKind.INT);
        return a == null ? otherwise : a.i();
    }

    private static float floatAttr(Node n, String name, float otherwise) {
        Attribute a = attribute(n, name, AttributeKind.FLOAT);
        return a == null ? otherwise : a.f();
    }

    private static long[] intsAttr(Node n, String name) {
        Attribute a = attribute(n, name, AttributeKind.INTS);
        return a == null ? null : a.ints();
    }

    private static String stringAttr(Node n, String name, String otherwise) {
        Attribute a = attribute(n, name, AttributeKind.STRING);
        return a == null ? otherwise : a.s();
    }

    /** Refuses attributes the compiler does not read (so that none is silently ignored). */
    private static void onlyAttributes(Node n, String... known) {
        Set<String> k = Set.of(known);
        for (String a : n.attributes().keySet()) {
            if (!k.contains(a)) {
                throw new IllegalArgumentException(n.describe() + ": attribute " + a + " is not supported");
            }
        }
    }

    private static float[] floats(Node n, Value v, String what) {
        if (v.isConstant() && v.constant.floats() == null) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' is an int64 tensor; latent4j computes on "
                    + "float tensors (int64 only as shapes, starts, ends, axes, steps and split sizes)");
        }
        return v.isConstant() ? v.constant.floats() : null;
    }

    private static long[] longs(Node n, Value v, String what) {
        if (v.batchShape) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' is the Shape of a batched value (its first entry "
                    + "the batch size, known only at run time); latent4j reads such a shape as Expand's shape only");
        }
        if (!v.isConstant()) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' is computed; latent4j needs it constant "
                    + "(an initializer or a Constant node)");
        }
        if (v.constant.longs() == null) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' must be an int64 tensor");
        }
        if (v.dims.length != 1) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' must be a 1-D tensor, got shape "
                    + Shapes.describe(v.dims));
        }
        return v.constant.longs();
    }

    private static Operand operand(Value v) {
        return v.isConstant() ? Operand.of(v.constant.floats()) : Operand.of(v.slot);
    }

    /** Whether a step may overwrite v's buffer in place (or fuse what follows into v's step). */
    private boolean ownedByOneReader(Value v) {
        return !v.isConstant() && !v.graphInput && !v.graphOutput && v.consumers == 1 && slotRefs.get(v.slot) == 1;
    }

    /** Functions that make a node's step given the slots its outputs go to. */
    private interface StepMaker {
        Step make(int[] outSlots);
    }

    /**
     * Either runs the step now (every input constant: the outputs become constants) or adds it to
     * the plan with a new buffer per output. Defines the node's outputs.
     */
    private void emit(Node n, boolean constantInputs, List<int[]> outDims, StepMaker maker) {
        if (constantInputs) {
            float[][] tmp = new float[outDims.size()][];
            int[] outSlots = new int[outDims.size()];
            for (int k = 0; k < tmp.length; k++) {
                long count = Shapes.count(outDims.get(k), n.describe());
                if (count > MAX_FOLDED) {
                    throw new IllegalArgumentException(n.describe() + ": folding it would make a constant of " + count
                            + " floats, more than latent4j's limit of " + MAX_FOLDED);
                }
                tmp[k] = new float[(int) count];
                outSlots[k] = k;
            }
            if (allPositive(outDims)) {
                maker.make(outSlots).run(tmp, 1, foldSpace);
            }
            for (int k = 0; k < tmp.length; k++) {
                define(n, k, constant(Tensor.ofFloats(outName(n, k), outDims.get(k), tmp[k])));
            }
            folded++;
            return;
        }
        int[] outSlots = new int[outDims.size()];
        for (int k = 0; k < outSlots.length; k++) {
            int[] d = outDims.get(k);
            if (!Shapes.batched(d)) {
                throw new IllegalArgumentException(n.describe() + ": its output " + Shapes.describe(d) + " would lose the batch dimension");
            }
            checkPerSample(d, n.describe() + " output " + k);
            outSlots[k] = newSlot(d);
        }
        steps.add(maker.make(outSlots));
        for (int k = 0; k < outSlots.length; k++) {
            Value v = computed(outName(n, k), outDims.get(k), outSlots[k]);
            v.producer = steps.size() - 1;
            define(n, k, v);
        }
    }

    private static boolean allPositive(List<int[]> dims) {
        for (int[] d : dims) {
            for (int x : d) {
                if (x <= 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String outName(Node n, int k) {
        return k < n.outputs().size() ? n.outputs().get(k) : "";
    }

    private void expectOutputs(Node n, int max) {
        if (n.outputs().size() > max) {
            throw new IllegalArgumentException(n.describe() + " has " + n.outputs().size() + " outputs; latent4j computes " + max);
        }
    }

    private void node(Node n) {
        switch (n.opType()) {
            case "Gemm" -> gemm(n);
            case "MatMul" -> matMul(n);
            case "Add" -> binary(n, Steps.Arithmetic.ADD);
            case "Sub" -> binary(n, Steps.Arithmetic.SUB);
            case "Mul" -> binary(n, Steps.Arithmetic.MUL);
            case "Div" -> binary(n, Steps.Arithmetic.DIV);
            case "Relu" -> activation(n, Activation.RELU, 0f);
            case "LeakyRelu" -> activation(n, Activation.LEAKY_RELU, floatAttr(n, "alpha", 0.01f));
            case "Elu" -> activation(n, Activation.ELU, floatAttr(n, "alpha", 1f));
            case "Sigmoid" -> activation(n, Activation.SIGMOID, 0f);
            case "Tanh" -> activation(n, Activation.TANH, 0f);
            case "Softplus" -> activation(n, Activation.SOFTPLUS, 0f);
            case "Exp" -> activation(n, Activation.EXP, 0f);
            case "Log" -> activation(n, Activation.LOG, 0f);
            case "Conv" -> conv(n, false);
            case "ConvTranspose" -> conv(n, true);
            case "BatchNormalization" -> batchNormalization(n);
            case "Reshape" -> reshape(n);
            case "Flatten" -> flatten(n);
            case "Concat" -> concat(n);
            case "Split" -> split(n);
            case "Slice" -> slice(n);
            case "Identity" -> {
                onlyAttributes(n);
                expectOutputs(n, 1);
                Value x = in(n, 0);
                define(n, 0, alias(x, x.dims, outName(n, 0)));
            }
            case "Constant" -> constantNode(n);
            case "Clip" -> clip(n);
            case "MaxPool" -> pool(n, true);
            case "AveragePool" -> pool(n, false);
            case "Resize" -> resize(n);
            case "Shape" -> shape(n);
            case "Expand" -> expand(n);
            default -> throw new IllegalStateException("unreachable: " + n.opType());
        }
    }

    // ------------------------------------------------------------------ products

    private void gemm(Node n) {
        onlyAttributes(n, "alpha", "beta", "transA", "transB");
        expectOutputs(n, 1);
        Value a = in(n, 0), b = in(n, 1), c = optionalIn(n, 2);
        float alpha = floatAttr(n, "alpha", 1f), beta = floatAttr(n, "beta", 1f);
        boolean transA = intAttr(n, "transA", 0) != 0, transB = intAttr(n, "transB", 0) != 0;
        floats(n, a, "A");
        if (a.dims.length != 2 || b.dims.length != 2) {
            throw new IllegalArgumentException(n.describe() + ": Gemm multiplies matrices, got A " + Shapes.describe(a.dims) + " and B "
                    + Shapes.describe(b.dims));
        }
        if (transA) {
            throw new IllegalArgumentException(n.describe() + ": transA=1 is not supported (latent4j multiplies a batch of rows)");
        }
        float[] w = constantWeight(n, b, "B");
        int k = a.dims[1];
        int bk = transB ? b.dims[1] : b.dims[0], nOut = transB ? b.dims[0] : b.dims[1];
        if (bk != k) {
            throw new IllegalArgumentException(n.describe() + ": A " + Shapes.describe(a.dims) + " has " + k + " columns but B "
                    + Shapes.describe(b.dims) + (transB ? " (transposed)" : "") + " has " + bk + " rows");
        }
        float[] bias = null;
        if (c != null) {
            float[] cv = constantWeight(n, c, "C");
            long count = cv.length;
            boolean row = c.dims.length == 0 || (c.dims.length == 1 && (count == nOut || count == 1))
                    || (c.dims.length == 2 && c.dims[0] == 1 && (c.dims[1] == nOut || c.dims[1] == 1));
            if (!row) {
                throw new IllegalArgumentException(n.describe() + ": C " + Shapes.describe(c.dims) + " must be a row of " + nOut
                        + " values (or one value) broadcast over the batch");
            }
            bias = new float[nOut];
            for (int j = 0; j < nOut; j++) {
                bias[j] = beta * cv[count == 1 ? 0 : j];
            }
        }
        product(n, a, k, nOut, alpha, transB, w, transB ? k : nOut, bias, new int[] {a.dims[0], nOut});
    }

    private void matMul(Node n) {
        onlyAttributes(n);
        expectOutputs(n, 1);
        Value a = in(n, 0), b = in(n, 1);
        floats(n, a, "A");
        if (a.dims.length < 2) {
            throw new IllegalArgumentException(n.describe() + ": A " + Shapes.describe(a.dims) + " must have rank 2 or more");
        }
        float[] w = constantWeight(n, b, "B");
        if (b.dims.length != 1 && b.dims.length != 2) {
            throw new IllegalArgumentException(n.describe() + ": B " + Shapes.describe(b.dims) + " must be a matrix or a vector");
        }
        int k = a.dims[a.dims.length - 1], bk = b.dims[0], nOut = b.dims.length == 2 ? b.dims[1] : 1;
        if (bk != k) {
            throw new IllegalArgumentException(n.describe() + ": A " + Shapes.describe(a.dims) + " has " + k + " columns but B "
                    + Shapes.describe(b.dims) + " has " + bk + " rows");
        }
        int[] out = b.dims.length == 2 ? a.dims.clone() : java.util.Arrays.copyOf(a.dims, a.dims.length - 1);
        if (b.dims.length == 2) {
            out[out.length - 1] = nOut;
        }
        product(n, a, k, nOut, 1f, false, w, nOut, null, out);
    }

    private static float[] constantWeight(Node n, Value v, String what) {
        if (!v.isConstant()) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' is computed; latent4j multiplies by constant "
                    + "weights only (an initializer or a Constant node)");
        }
        return floats(n, v, what);
    }

    private void product(Node n, Value a, int k, int nOut, float alpha, boolean transB, float[] w, int ldb, float[] bias, int[] out) {
        float[] packed = Gemm.packB(transB, k, nOut, w, 0, ldb);
        emit(n, a.isConstant(), List.of(out),
                s -> new Steps.Product(operand(a), a.dims, k, nOut, alpha, packed, bias, Activation.IDENTITY, 0f, s[0]));
    }

    // ------------------------------------------------------------------ convolutions

    private void conv(Node n, boolean transposed) {
        if (transposed) {
            onlyAttributes(n, "auto_pad", "dilations", "group", "kernel_shape", "output_padding", "pads", "strides");
        } else {
            onlyAttributes(n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        }
        expectOutputs(n, 1);
        Value x = in(n, 0), wv = in(n, 1), bv = optionalIn(n, 2);
        floats(n, x, "X");
        if (x.dims.length != 4) {
            throw new IllegalArgumentException(n.describe() + ": latent4j runs 2-D convolutions of (batch, channels, height, width), got X "
                    + Shapes.describe(x.dims));
        }
        float[] w = constantWeight(n, wv, "W");
        if (wv.dims.length != 4) {
            throw new IllegalArgumentException(n.describe() + ": W " + Shapes.describe(wv.dims) + " must have rank 4");
        }
        if (intAttr(n, "group", 1) != 1) {
            throw new IllegalArgumentException(n.describe() + ": group=" + intAttr(n, "group", 1) + " is not supported (only group 1)");
        }
        long[] dil = intsAttr(n, "dilations");
        if (dil != null) {
            for (long d : dil) {
                if (d != 1) {
                    throw new IllegalArgumentException(n.describe() + ": dilations " + java.util.Arrays.toString(dil) + " are not supported (only 1)");
                }
            }
        }
        int c = x.dims[1], h = x.dims[2], wd = x.dims[3];
        int kh = wv.dims[2], kw = wv.dims[3];
        int wIn = transposed ? wv.dims[0] : wv.dims[1], outC = transposed ? wv.dims[1] : wv.dims[0];
        if (wIn != c) {
            throw new IllegalArgumentException(n.describe() + ": X " + Shapes.describe(x.dims) + " has " + c + " channels but W "
                    + Shapes.describe(wv.dims) + " takes " + wIn);
        }
        long[] ks = intsAttr(n, "kernel_shape");
        if (ks != null && (ks.length != 2 || ks[0] != kh || ks[1] != kw)) {
            throw new IllegalArgumentException(n.describe() + ": kernel_shape " + java.util.Arrays.toString(ks) + " disagrees with W "
                    + Shapes.describe(wv.dims));
        }
        long[] st = intsAttr(n, "strides");
        long sh = st == null ? 1 : st.length == 2 ? st[0] : -1, sw = st == null ? 1 : st.length == 2 ? st[1] : -1;
        if (sh != sw || sh < 1 || sh > 1 << 16) {
            throw new IllegalArgumentException(n.describe() + ": strides " + java.util.Arrays.toString(st)
                    + " are not supported (latent4j needs one positive stride for both axes)");
        }
        int stride = (int) sh;
        long[] pads = intsAttr(n, "pads");
        if (pads == null) {
            pads = new long[4];
        }
        if (pads.length != 4) {
            throw new IllegalArgumentException(n.describe() + ": pads " + java.util.Arrays.toString(pads) + " must have 4 entries");
        }
        for (long p : pads) {
            if (p < 0 || p > 1 << 16) {
                throw new IllegalArgumentException(n.describe() + ": pads " + java.util.Arrays.toString(pads) + " are out of range");
            }
        }
        String autoPad = stringAttr(n, "auto_pad", "NOTSET");
        switch (autoPad) {
            case "NOTSET" -> { }
            case "VALID" -> pads = new long[4];
            case "SAME_UPPER", "SAME_LOWER" -> {
                if (transposed) {
                    throw new IllegalArgumentException(n.describe() + ": auto_pad " + autoPad + " is not supported on ConvTranspose (give pads)");
                }
                long th = Math.max(0, ((long) (h + stride - 1) / stride - 1) * stride + kh - h);
                long tw = Math.max(0, ((long) (wd + stride - 1) / stride - 1) * stride + kw - wd);
                boolean upper = autoPad.equals("SAME_UPPER");
                pads = new long[] {upper ? th / 2 : th - th / 2, upper ? tw / 2 : tw - tw / 2, upper ? th - th / 2 : th / 2,
                        upper ? tw - tw / 2 : tw / 2};
            }
            default -> throw new IllegalArgumentException(n.describe() + ": auto_pad '" + autoPad + "' is not an ONNX value");
        }
        boolean even = pads[0] == pads[1] && pads[1] == pads[2] && pads[2] == pads[3];
        float[] bias = null;
        if (bv != null) {
            bias = constantWeight(n, bv, "B");
            if (bias.length != outC || bv.dims.length != 1) {
                throw new IllegalArgumentException(n.describe() + ": B " + Shapes.describe(bv.dims) + " must have " + outC + " entries");
            }
        }
        float[] b = bias;
        if (!transposed) {
            if (!even) {
                throw new IllegalArgumentException(n.describe() + ": pads " + java.util.Arrays.toString(pads)
                        + " are not supported (latent4j needs the same padding on every side of a convolution)");
            }
            ConvShape g = new ConvShape(c, h, wd, outC, kh, kw, stride, (int) pads[0], false);
            int[] out = {x.dims[0], outC, g.outHeight(), g.outWidth()};
            emit(n, x.isConstant(), List.of(out), s -> new Steps.Convolution(operand(x), x.dims, w, b, g, false, 0, 0, out[2], out[3],
                    Activation.IDENTITY, 0f, s[0]));
            return;
        }
        long[] op = intsAttr(n, "output_padding");
        if (op == null) {
            op = new long[2];
        }
        if (op.length != 2 || op[0] < 0 || op[1] < 0 || op[0] >= stride || op[1] >= stride) {
            throw new IllegalArgumentException(n.describe() + ": output_padding " + java.util.Arrays.toString(op)
                    + " must have 2 entries each in [0, stride)");
        }
        if (even && op[0] == 0 && op[1] == 0) {
            ConvShape g = new ConvShape(c, h, wd, outC, kh, kw, stride, (int) pads[0], true);
            int[] out = {x.dims[0], outC, g.outHeight(), g.outWidth()};
            emit(n, x.isConstant(), List.of(out), s -> new Steps.Convolution(operand(x), x.dims, w, b, g, false, 0, 0, out[2], out[3],
                    Activation.IDENTITY, 0f, s[0]));
            return;
        }
        // Unpadded, then cropped: output = full[pads_top + r, pads_left + c], the bias beyond the full output (output padding).
        ConvShape g = new ConvShape(c, h, wd, outC, kh, kw, stride, 0, true);
        long oh = g.outHeight() - pads[0] - pads[2] + op[0], ow = g.outWidth() - pads[1] - pads[3] + op[1];
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(n.describe() + ": pads " + java.util.Arrays.toString(pads) + " leave no output of "
                    + g.outHeight() + "x" + g.outWidth());
        }
        int[] out = {x.dims[0], outC, (int) oh, (int) ow};
        int top = (int) pads[0], left = (int) pads[1];
        emit(n, x.isConstant(), List.of(out), s -> new Steps.Convolution(operand(x), x.dims, w, b, g, true, top, left, out[2], out[3],
                Activation.IDENTITY, 0f, s[0]));
    }

    // ------------------------------------------------------------------ element-wise

    private void activation(Node n, Activation act, float parameter) {
        onlyAttributes(n, act == Activation.LEAKY_RELU || act == Activation.ELU ? new String[] {"alpha"} : new String[0]);
        expectOutputs(n, 1);
        Value x = in(n, 0);
        floats(n, x, "X");
        try {
            act.checkParameter(parameter);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(n.describe() + ": " + e.getMessage() + " (latent4j's kernels take that range)");
        }
        if (ownedByOneReader(x) && x.producer >= 0) {
            Step p = steps.get(x.producer);
            Step f = switch (p) {
                case Steps.Product s when s.act() == Activation.IDENTITY ->
                        new Steps.Product(s.x(), s.xDims(), s.k(), s.n(), s.alpha(), s.packed(), s.bias(), act, parameter, s.out());
                case Steps.Convolution s when s.act() == Activation.IDENTITY ->
                        new Steps.Convolution(s.x(), s.xDims(), s.weight(), s.bias(), s.geometry(), s.crop(), s.padTop(), s.padLeft(),
                                s.outHeight(), s.outWidth(), act, parameter, s.out());
                default -> null;
            };
            if (f != null) {
                steps.set(x.producer, f);
                fused++;
                Value v = computed(outName(n, 0), x.dims, x.slot);
                v.producer = x.producer;   // x had one reader, this node: its buffer is the output's now
                define(n, 0, v);
                return;
            }
        }
        if (ownedByOneReader(x)) {   // in place
            steps.add(new Steps.Activate(Operand.of(x.slot), x.dims, act, parameter, x.slot));
            Value v = computed(outName(n, 0), x.dims, x.slot);
            v.producer = steps.size() - 1;
            define(n, 0, v);
            return;
        }
        emit(n, x.isConstant(), List.of(x.dims), s -> new Steps.Activate(operand(x), x.dims, act, parameter, s[0]));
    }

    private void binary(Node n, Steps.Arithmetic op) {
        onlyAttributes(n);
        expectOutputs(n, 1);
        Value a = in(n, 0), b = in(n, 1);
        floats(n, a, "A");
        floats(n, b, "B");
        int[] out = Shapes.broadcast(a.dims, b.dims, n.describe());
        // x W + row after a MatMul or a bias-less Gemm: the row becomes the product's bias.
        if (op == Steps.Arithmetic.ADD) {
            Value p = !a.isConstant() && b.isConstant() ? a : !b.isConstant() && a.isConstant() ? b : null;
            Value r = p == a ? b : a;
            if (p != null && ownedByOneReader(p) && p.producer >= 0 && steps.get(p.producer) instanceof Steps.Product s
                    && s.bias() == null && s.act() == Activation.IDENTITY && java.util.Arrays.equals(out, p.dims)
                    && r.constant.floats().length == s.n() && Steps.Binary.trailing(r.dims, out)) {
                steps.set(p.producer, new Steps.Product(s.x(), s.xDims(), s.k(), s.n(), s.alpha(), s.packed(), r.constant.floats().clone(),
                        Activation.IDENTITY, 0f, s.out()));
                fused++;
                Value v = computed(outName(n, 0), p.dims, p.slot);
                v.producer = p.producer;
                define(n, 0, v);
                return;
            }
        }
        emit(n, a.isConstant() && b.isConstant(), List.of(out), s -> new Steps.Binary(op, operand(a), a.dims, operand(b), b.dims, out, s[0]));
    }

    private void batchNormalization(Node n) {
        onlyAttributes(n, "epsilon", "momentum", "training_mode", "spatial");
        if (intAttr(n, "training_mode", 0) != 0) {
            throw new IllegalArgumentException(n.describe() + ": training_mode=1 is not supported (latent4j runs batch normalization at "
                    + "inference, with the running statistics)");
        }
        expectOutputs(n, 1);
        Value x = in(n, 0);
        floats(n, x, "X");
        if (x.dims.length < 2) {
            throw new IllegalArgumentException(n.describe() + ": X " + Shapes.describe(x.dims) + " needs a channel dimension");
        }
        int ch = x.dims[1];
        float[][] p = new float[4][];
        String[] names = {"scale", "B", "input_mean", "input_var"};
        for (int k = 0; k < 4; k++) {
            Value v = in(n, k + 1);
            if (!v.isConstant()) {
                throw new IllegalArgumentException(n.describe() + ": " + names[k] + " '" + v.name + "' must be a constant");
            }
            p[k] = floats(n, v, names[k]);
            if (p[k].length != ch || v.dims.length != 1) {
                throw new IllegalArgumentException(n.describe() + ": " + names[k] + " " + Shapes.describe(v.dims) + " must have " + ch
                        + " entries (the channels of X " + Shapes.describe(x.dims) + ")");
            }
        }
        double eps = floatAttr(n, "epsilon", 1e-5f);
        float[] scale = new float[ch], shift = new float[ch];
        for (int c = 0; c < ch; c++) {
            // y = (x - mean) / sqrt(var + eps) * gamma + beta = x a + (beta - mean a), a and the shift in double, then rounded once
            double a = p[0][c] / Math.sqrt((double) p[3][c] + eps);
            scale[c] = (float) a;
            shift[c] = (float) (p[1][c] - p[2][c] * a);
        }
        emit(n, x.isConstant(), List.of(x.dims), s -> new Steps.ChannelAffine(operand(x), x.dims, scale, shift, s[0]));
    }

    // ------------------------------------------------------------------ shapes and copies

    private void reshape(Node n) {
        onlyAttributes(n, "allowzero");
        expectOutputs(n, 1);
        Value x = in(n, 0);
        long[] shape = longs(n, in(n, 1), "shape");
        boolean allowZero = intAttr(n, "allowzero", 0) != 0;
        if (shape.length > 64) {
            throw new IllegalArgumentException(n.describe() + ": shape has " + shape.length + " entries");
        }
        int[] out = new int[shape.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            long s = shape[i];
            if (s == 0 && !allowZero) {
                if (i >= x.dims.length) {
                    throw new IllegalArgumentException(n.describe() + ": shape entry " + i + " is 0 (copy) but the input " + Shapes.describe(x.dims)
                            + " has no dimension " + i);
                }
                out[i] = x.dims[i];
            } else if (s == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(n.describe() + ": shape " + java.util.Arrays.toString(shape) + " has two -1 entries");
                }
                infer = i;
                continue;
            } else if (s < 0 || s > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(n.describe() + ": shape entry " + s + " is out of range");
            } else {
                out[i] = (int) s;
            }
            if (out[i] != Shapes.BATCH) {
                known *= out[i];
                if (known > Shapes.MAX_VALUES) {
                    throw new IllegalArgumentException(n.describe() + ": shape " + java.util.Arrays.toString(shape) + " is too large");
                }
            }
        }
        boolean batched = Shapes.batched(x.dims);
        long total = Shapes.count(x.dims, n.describe());   // per sample when batched
        if (batched) {
            if (out.length == 0 || (infer != 0 && out[0] != Shapes.BATCH)) {
                throw new IllegalArgumentException(n.describe() + ": shape " + java.util.Arrays.toString(shape) + " would change the batch "
                        + "dimension of " + Shapes.describe(x.dims) + " (latent4j keeps it first: give -1 or 0 there)");
            }
            if (infer == 0) {
                out[0] = Shapes.BATCH;
                infer = -1;
            }
        }
        if (infer >= 0) {
            if (known == 0 || total % known != 0) {
                throw new IllegalArgumentException(n.describe() + ": cannot reshape " + Shapes.describe(x.dims) + " to "
                        + java.util.Arrays.toString(shape));
            }
            out[infer] = (int) (total / known);
            known *= out[infer];
        }
        if (known != total) {
            throw new IllegalArgumentException(n.describe() + ": cannot reshape " + Shapes.describe(x.dims) + " (" + total + " values"
                    + (batched ? " per sample" : "") + ") to " + java.util.Arrays.toString(shape));
        }
        define(n, 0, alias(x, out, outName(n, 0)));
    }

    private void flatten(Node n) {
        onlyAttributes(n, "axis");
        expectOutputs(n, 1);
        Value x = in(n, 0);
        int rank = x.dims.length;
        long a = intAttr(n, "axis", 1);
        if (a < -rank || a > rank) {
            throw new IllegalArgumentException(n.describe() + ": axis " + a + " is outside a rank-" + rank + " value");
        }
        int axis = (int) (a < 0 ? a + rank : a);
        long inner = 1, outer = 1;
        for (int i = 0; i < rank; i++) {
            if (i < axis) {
                outer *= x.dims[i] == Shapes.BATCH ? 1 : x.dims[i];
            } else {
                inner *= x.dims[i];
            }
        }
        int[] out;
        if (Shapes.batched(x.dims)) {
            if (axis == 0 || outer != 1) {
                throw new IllegalArgumentException(n.describe() + ": Flatten with axis " + a + " on " + Shapes.describe(x.dims)
                        + " would merge the batch dimension with others");
            }
            out = new int[] {Shapes.BATCH, (int) inner};
        } else {
            out = new int[] {(int) outer, (int) inner};
        }
        define(n, 0, alias(x, out, outName(n, 0)));
    }

    private void concat(Node n) {
        onlyAttributes(n, "axis");
        expectOutputs(n, 1);
        if (n.inputs().isEmpty()) {
            throw new IllegalArgumentException(n.describe() + " has no input");
        }
        Attribute axisAttr = attribute(n, "axis", AttributeKind.INT);
        if (axisAttr == null) {
            throw new IllegalArgumentException(n.describe() + ": attribute axis is required");
        }
        List<Value> ins = new ArrayList<>();
        for (int k = 0; k < n.inputs().size(); k++) {
            Value v = in(n, k);
            floats(n, v, "input " + k);
            ins.add(v);
        }
        int[] first = ins.get(0).dims;
        int axis = Shapes.axis(axisAttr.i(), first.length, n.describe());
        boolean anyBatched = false, allConstant = true;
        long along = 0;
        for (Value v : ins) {
            anyBatched |= Shapes.batched(v.dims);
            allConstant &= v.isConstant();
            if (v.dims.length != first.length) {
                throw new IllegalArgumentException(n.describe() + ": inputs " + Shapes.describe(first) + " and " + Shapes.describe(v.dims)
                        + " have different ranks");
            }
            for (int i = 0; i < first.length; i++) {
                if (i != axis && v.dims[i] != first[i]) {
                    throw new IllegalArgumentException(n.describe() + ": inputs " + Shapes.describe(first) + " and " + Shapes.describe(v.dims)
                            + " differ outside axis " + axis);
                }
            }
            along += v.dims[axis];
        }
        if (anyBatched && !allConstant) {
            for (Value v : ins) {
                if (!Shapes.batched(v.dims)) {
                    throw new IllegalArgumentException(n.describe() + ": joins the computed batch with the constant '" + v.name + "' "
                            + Shapes.describe(v.dims) + "; latent4j joins batched values only");
                }
            }
            if (axis == 0) {
                throw new IllegalArgumentException(n.describe() + ": Concat along the batch dimension is not supported");
            }
        }
        if (along > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n.describe() + ": the joined dimension is too large");
        }
        int[] out = first.clone();
        out[axis] = (int) along;
        Operand[] ops = new Operand[ins.size()];
        int[][] dims = new int[ins.size()][];
        for (int k = 0; k < ops.length; k++) {
            ops[k] = operand(ins.get(k));
            dims[k] = ins.get(k).dims;
        }
        emit(n, allConstant, List.of(out), s -> new Steps.Concat(ops, dims, axis, s[0]));
    }

    private void split(Node n) {
        onlyAttributes(n, "axis", "num_outputs");
        Value x = in(n, 0);
        floats(n, x, "input");
        int axis = Shapes.axis(intAttr(n, "axis", 0), x.dims.length, n.describe());
        if (Shapes.batched(x.dims) && axis == 0) {
            throw new IllegalArgumentException(n.describe() + ": Split along the batch dimension is not supported");
        }
        int outs = n.outputs().size();
        if (outs < 1) {
            throw new IllegalArgumentException(n.describe() + " has no output");
        }
        int dim = x.dims[axis];
        Value sv = optionalIn(n, 1);
        int[] sizes = new int[outs];
        if (sv != null) {
            long[] s = longs(n, sv, "split");
            if (s.length != outs) {
                throw new IllegalArgumentException(n.describe() + ": split has " + s.length + " sizes for " + outs + " outputs");
            }
            long sum = 0;
            for (int i = 0; i < outs; i++) {
                if (s[i] < 0 || s[i] > dim) {
                    throw new IllegalArgumentException(n.describe() + ": split size " + s[i] + " is outside [0, " + dim + "]");
                }
                sizes[i] = (int) s[i];
                sum += s[i];
            }
            if (sum != dim) {
                throw new IllegalArgumentException(n.describe() + ": split sizes " + java.util.Arrays.toString(s) + " add up to " + sum
                        + " but axis " + axis + " of " + Shapes.describe(x.dims) + " has " + dim);
            }
        } else {
            long num = intAttr(n, "num_outputs", outs);
            if (num != outs) {
                throw new IllegalArgumentException(n.describe() + ": num_outputs " + num + " but " + outs + " outputs");
            }
            int chunk = (dim + outs - 1) / outs;   // equal parts; opset 18: the last one smaller when they do not divide
            if (n.attributes().get("num_outputs") == null && dim % outs != 0) {
                throw new IllegalArgumentException(n.describe() + ": axis " + axis + " of " + Shapes.describe(x.dims) + " does not split into "
                        + outs + " equal parts");
            }
            int left = dim;
            for (int i = 0; i < outs; i++) {
                sizes[i] = Math.min(chunk, left);
                left -= sizes[i];
            }
        }
        List<int[]> outDims = new ArrayList<>();
        for (int s : sizes) {
            int[] d = x.dims.clone();
            d[axis] = s;
            outDims.add(d);
        }
        emit(n, x.isConstant(), outDims, s -> new Steps.Split(operand(x), x.dims, axis, sizes, s));
    }

    private void slice(Node n) {
        onlyAttributes(n);
        expectOutputs(n, 1);
        Value x = in(n, 0);
        floats(n, x, "data");
        long[] starts = longs(n, in(n, 1), "starts"), ends = longs(n, in(n, 2), "ends");
        Value av = optionalIn(n, 3), sv = optionalIn(n, 4);
        int rank = x.dims.length;
        long[] axes = av == null ? null : longs(n, av, "axes");
        long[] stepsIn = sv == null ? null : longs(n, sv, "steps");
        int count = starts.length;
        if (ends.length != count || (axes != null && axes.length != count) || (stepsIn != null && stepsIn.length != count)) {
            throw new IllegalArgumentException(n.describe() + ": starts, ends, axes and steps must have the same length");
        }
        int[] start = new int[rank], step = new int[rank], out = x.dims.clone();
        java.util.Arrays.fill(step, 1);
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < count; i++) {
            int axis = Shapes.axis(axes == null ? i : axes[i], rank, n.describe());
            if (seen[axis]) {
                throw new IllegalArgumentException(n.describe() + ": axis " + axis + " is sliced twice");
            }
            seen[axis] = true;
            long st = stepsIn == null ? 1 : stepsIn[i];
            if (st == 0 || st < Integer.MIN_VALUE / 2 || st > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException(n.describe() + ": step " + st + " is not supported");
            }
            if (x.dims[axis] == Shapes.BATCH) {
                if (st != 1 || starts[i] != 0 || ends[i] < Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(n.describe() + ": slicing the batch dimension is not supported (starts " + starts[i]
                            + ", ends " + ends[i] + ", step " + st + ")");
                }
                continue;
            }
            long d = x.dims[axis];
            long s = starts[i] < 0 ? starts[i] + d : starts[i], e = ends[i] < 0 ? ends[i] + d : ends[i];
            long len;
            if (st > 0) {
                s = Math.clamp(s, 0, d);
                e = Math.clamp(e, 0, d);
                len = e > s ? (e - s + st - 1) / st : 0;
            } else {
                s = Math.clamp(s, 0, d - 1);
                e = Math.clamp(e, -1, d - 1);
                len = s > e ? (s - e - st - 1) / -st : 0;
            }
            if (len == 0) {
                throw new IllegalArgumentException(n.describe() + ": the slice of axis " + axis + " is empty");
            }
            start[axis] = (int) s;
            step[axis] = (int) st;
            out[axis] = (int) len;
        }
        emit(n, x.isConstant(), List.of(out), slot -> new Steps.Slice(operand(x), x.dims, start, step, out, slot[0]));
    }

    private void constantNode(Node n) {
        expectOutputs(n, 1);
        if (n.attributes().size() != 1) {
            throw new IllegalArgumentException(n.describe() + ": a Constant needs exactly one attribute, got " + n.attributes().keySet());
        }
        Attribute a = n.attributes().values().iterator().next();
        String name = outName(n, 0);
        Tensor t = switch (a.name()) {
            case "value" -> {
                if (a.kind() != AttributeKind.TENSOR) {
                    throw new IllegalArgumentException(n.describe() + ": attribute value must be a tensor");
                }
                yield renamed(a.t(), name);
            }
            case "value_float" -> Tensor.ofFloats(name, new int[0], new float[] {floatAttr(n, "value_float", 0f)});
            case "value_floats" -> {
                Attribute f = attribute(n, "value_floats", AttributeKind.FLOATS);
                yield Tensor.ofFloats(name, new int[] {f.floats().length}, f.floats());
            }
            case "value_int" -> Tensor.ofLongs(name, new int[0], new long[] {intAttr(n, "value_int", 0)});
            case "value_ints" -> {
                long[] v = intsAttr(n, "value_ints");
                yield Tensor.ofLongs(name, new int[] {v.length}, v);
            }
            default -> throw new IllegalArgumentException(n.describe() + ": Constant attribute " + a.name() + " is not supported");
        };
        define(n, 0, constant(t));
    }

    // ------------------------------------------------------------------ clip, pooling, resize, shape, expand

    /** A constant scalar (or 1-element) float input, or {@code otherwise} when absent. */
    private static float scalarIn(Node n, Value v, String what, float otherwise) {
        if (v == null) {
            return otherwise;
        }
        if (!v.isConstant()) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' is computed; latent4j needs it constant");
        }
        float[] f = floats(n, v, what);
        if (f.length != 1 || v.dims.length > 1) {
            throw new IllegalArgumentException(n.describe() + ": " + what + " '" + v.name + "' must be a scalar, got shape " + Shapes.describe(v.dims));
        }
        return f[0];
    }

    private void clip(Node n) {
        onlyAttributes(n);
        expectOutputs(n, 1);
        Value x = in(n, 0);
        floats(n, x, "input");
        float min = scalarIn(n, optionalIn(n, 1), "min", Float.NEGATIVE_INFINITY);
        float max = scalarIn(n, optionalIn(n, 2), "max", Float.POSITIVE_INFINITY);
        emit(n, x.isConstant(), List.of(x.dims), s -> new Steps.Clip(operand(x), x.dims, min, max, s[0]));
    }

    /** The rank-4 (N, C, H, W) input of a pooling or resize node. */
    private static Value image(Node n, Value x) {
        floats(n, x, "X");
        if (x.dims.length != 4) {
            throw new IllegalArgumentException(n.describe() + ": X " + Shapes.describe(x.dims) + " must be (batch, channels, height, width); "
                    + "latent4j runs 2-D " + n.opType() + " only");
        }
        return x;
    }

    private void pool(Node n, boolean max) {
        onlyAttributes(n, "kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode", "storage_order", "count_include_pad");
        expectOutputs(n, 1);
        Value x = image(n, in(n, 0));
        long[] kernel = intsAttr(n, "kernel_shape");
        if (kernel == null || kernel.length != 2 || kernel[0] < 1 || kernel[1] < 1 || kernel[0] > x.dims[2] || kernel[1] > x.dims[3]) {
            throw new IllegalArgumentException(n.describe() + ": kernel_shape " + java.util.Arrays.toString(kernel) + " must be 2 positive sizes "
                    + "within X " + Shapes.describe(x.dims));
        }
        long[] strides = intsAttr(n, "strides");
        if (strides == null) {
            strides = new long[] {1, 1};
        }
        if (strides.length != 2 || strides[0] < 1 || strides[1] < 1 || strides[0] > Integer.MAX_VALUE || strides[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n.describe() + ": strides " + java.util.Arrays.toString(strides) + " must be 2 positive numbers");
        }
        long[] dilations = intsAttr(n, "dilations");
        if (dilations != null && !(dilations.length == 2 && dilations[0] == 1 && dilations[1] == 1)) {
            throw new IllegalArgumentException(n.describe() + ": dilations " + java.util.Arrays.toString(dilations) + " are not supported (only 1)");
        }
        if (intAttr(n, "ceil_mode", 0) != 0) {
            throw new IllegalArgumentException(n.describe() + ": ceil_mode " + intAttr(n, "ceil_mode", 0) + " is not supported (only 0)");
        }
        if (intAttr(n, "storage_order", 0) != 0) {
            throw new IllegalArgumentException(n.describe() + ": storage_order " + intAttr(n, "storage_order", 0) + " is not supported (only 0)");
        }
        long countPad = intAttr(n, "count_include_pad", 0);
        if (countPad != 0 && countPad != 1) {
            throw new IllegalArgumentException(n.describe() + ": count_include_pad " + countPad + " must be 0 or 1");
        }
        if (max && n.attributes().containsKey("count_include_pad")) {
            throw new IllegalArgumentException(n.describe() + ": attribute count_include_pad is not supported");
        }
        String autoPad = stringAttr(n, "auto_pad", "NOTSET");
        if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
            throw new IllegalArgumentException(n.describe() + ": auto_pad " + autoPad + " is not supported (NOTSET or VALID)");
        }
        long[] pads = intsAttr(n, "pads");
        long pad = 0;
        if (pads != null) {
            if (autoPad.equals("VALID")) {
                throw new IllegalArgumentException(n.describe() + ": pads with auto_pad VALID");
            }
            if (pads.length != 4 || pads[1] != pads[0] || pads[2] != pads[0] || pads[3] != pads[0]) {
                throw new IllegalArgumentException(n.describe() + ": pads " + java.util.Arrays.toString(pads) + " are not supported (4 equal numbers "
                        + "only)");
            }
            pad = pads[0];
            if (pad < 0 || pad >= kernel[0] || pad >= kernel[1]) {
                throw new IllegalArgumentException(n.describe() + ": pad " + pad + " must be at least 0 and less than the kernel "
                        + java.util.Arrays.toString(kernel));
            }
        }
        int kh = (int) kernel[0], kw = (int) kernel[1], sh = (int) strides[0], sw = (int) strides[1], p = (int) pad;
        int oh = (int) ((x.dims[2] + 2L * p - kh) / sh + 1), ow = (int) ((x.dims[3] + 2L * p - kw) / sw + 1);
        int[] out = {x.dims[0], x.dims[1], oh, ow};
        boolean include = countPad == 1;
        emit(n, x.isConstant(), List.of(out), s -> new Steps.Pool(operand(x), x.dims, max, kh, kw, sh, sw, p, include, oh, ow, s[0]));
    }

    private void resize(Node n) {
        onlyAttributes(n, "mode", "coordinate_transformation_mode", "nearest_mode", "antialias", "exclude_outside", "cubic_coeff_a",
                "extrapolation_value");
        expectOutputs(n, 1);
        Value x = image(n, in(n, 0));
        String mode = stringAttr(n, "mode", "nearest"), transform = stringAttr(n, "coordinate_transformation_mode", "half_pixel"),
                nearest = stringAttr(n, "nearest_mode", "round_prefer_floor");
        if (!mode.equals("nearest") || !transform.equals("asymmetric") || !nearest.equals("floor")) {
            throw new IllegalArgumentException(n.describe() + ": Resize with mode " + mode + ", coordinate_transformation_mode " + transform
                    + ", nearest_mode " + nearest + " is not supported (latent4j runs nearest, asymmetric, floor: the upsampling it exports)");
        }
        if (intAttr(n, "antialias", 0) != 0 || intAttr(n, "exclude_outside", 0) != 0) {
            throw new IllegalArgumentException(n.describe() + ": antialias and exclude_outside must be 0");
        }
        Value roi = optionalIn(n, 1);
        if (roi != null && !(roi.isConstant() && Shapes.count(roi.dims, n.describe()) == 0)) {
            throw new IllegalArgumentException(n.describe() + ": roi '" + roi.name + "' is not supported (leave it empty)");
        }
        if (optionalIn(n, 3) != null) {
            throw new IllegalArgumentException(n.describe() + ": sizes are not supported (give scales)");
        }
        Value sv = in(n, 2);
        if (!sv.isConstant()) {
            throw new IllegalArgumentException(n.describe() + ": scales '" + sv.name + "' is computed; latent4j needs it constant");
        }
        float[] scales = floats(n, sv, "scales");
        if (scales.length != 4 || scales[0] != 1f || scales[1] != 1f || !integral(scales[2]) || !integral(scales[3])) {
            throw new IllegalArgumentException(n.describe() + ": scales " + java.util.Arrays.toString(scales) + " are not supported (latent4j "
                    + "runs [1, 1, fh, fw] with whole factors from 1 to 1024)");
        }
        int fh = (int) scales[2], fw = (int) scales[3];
        int[] out = {x.dims[0], x.dims[1], x.dims[2] * fh, x.dims[3] * fw};
        emit(n, x.isConstant(), List.of(out), s -> new Steps.Upsample(operand(x), x.dims, fh, fw, s[0]));
    }

    private static boolean integral(float f) {
        return f >= 1f && f <= 1024f && f == Math.rint(f);
    }

    private void shape(Node n) {
        onlyAttributes(n);   // start and end (opset 15) are not read
        expectOutputs(n, 1);
        Value x = in(n, 0);
        long[] d = new long[x.dims.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = x.dims[i];
        }
        Value v = constant(Tensor.ofLongs(outName(n, 0), new int[] {d.length}, d));
        v.batchShape = Shapes.batched(x.dims);
        define(n, 0, v);
    }

    private void expand(Node n) {
        onlyAttributes(n);
        expectOutputs(n, 1);
        Value x = in(n, 0);
        floats(n, x, "input");
        Value sv = in(n, 1);
        long[] shape;
        if (sv.batchShape) {
            shape = sv.constant.longs();
        } else {
            shape = longs(n, sv, "shape");
        }
        if (shape.length > 64) {
            throw new IllegalArgumentException(n.describe() + ": shape has " + shape.length + " entries");
        }
        int[] target = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            boolean batch = sv.batchShape && i == 0;
            if (!batch && (shape[i] < 1 || shape[i] > Integer.MAX_VALUE)) {
                throw new IllegalArgumentException(n.describe() + ": shape entry " + shape[i] + " is out of range");
            }
            target[i] = batch ? Shapes.BATCH : (int) shape[i];
        }
        int[] out = Shapes.broadcast(x.dims, target, n.describe());
        boolean constantInputs = x.isConstant() && !Shapes.batched(out);
        emit(n, constantInputs, List.of(out), s -> new Steps.Expand(operand(x), x.dims, out, s[0]));
    }
}
