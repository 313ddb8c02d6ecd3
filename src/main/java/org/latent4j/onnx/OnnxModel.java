package org.latent4j.onnx;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.kernel.Parallelism;
import org.latent4j.onnx.Compiler.Plan;
import org.latent4j.onnx.Compiler.Port;
import org.latent4j.onnx.Steps.Step;

/**
 * An ONNX model run by latent4j's own kernels, in pure Java: the ONNX graphs of the autoencoder
 * family (encoders, decoders, whole autoencoders as PyTorch's {@code torch.onnx} or other tools
 * export them).
 *
 * <pre>{@code
 * OnnxModel encoder = OnnxModel.load(Path.of("encoder.onnx"));
 * Map<String, float[]> out = encoder.run(batch, x);        // x: batch x 784 floats, row-major
 * float[] mu = out.get("mu");                              // batch x 32
 * }</pre>
 *
 * <p><b>Operators.</b> Opsets 13 to 23 of the default domain, the operators Gemm, MatMul, Add,
 * Mul, Sub, Div, Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softplus, Exp, Log, Conv, ConvTranspose
 * (2-D, group 1, no dilation, one stride for both axes), BatchNormalization (inference), Reshape,
 * Flatten, Concat, Split, Slice, Identity and Constant. A file with any other operator, or with a
 * supported one used in a way latent4j does not run (e.g. a Gemm whose B is computed), is refused by
 * {@link #load} before anything runs, the message naming the node (its index, operator and name).
 *
 * <p><b>Shapes.</b> The first dimension of every graph input is the batch, whatever size the file
 * declares there; every other dimension must be fixed. Every shape is inferred and checked at load,
 * and so is each graph output's declared shape. Tensors are float32 (int64 only as the constant
 * shapes, starts, ends, axes, steps and split sizes of Reshape, Slice and Split).
 *
 * <p><b>How it runs.</b> {@link #load} compiles the graph once into a static plan: nodes whose
 * inputs are all constants are evaluated then (constant folding); Gemm and MatMul by a constant
 * weight run on the engine's GEMM with the weight packed once, Conv and ConvTranspose on its
 * convolution kernel, activations on its Vector API kernels (fused into the product or convolution
 * before them, or in place); the element-wise arithmetic with ONNX broadcasting, BatchNormalization
 * (folded into one scale and shift per channel), Concat, Split and Slice are simple loops of this
 * package. Results do not depend on the thread count (the engine's kernels' guarantee).
 *
 * <p><b>Files are hostile data</b>: the file's size is checked before it is read, protobuf-java
 * (classes generated from the official onnx.proto) parses it with a nesting limit, and every
 * tensor's dims and data length are checked before any array is made; a damaged or truncated
 * file, one keeping tensors outside itself (external data), or dims that disagree with the data
 * are a one-line {@link IOException}.
 *
 * <p>An instance keeps its buffers between calls (they grow to the largest batch run); {@link #run}
 * is synchronized, so share one across threads only if the calls may wait on each other.
 */
public final class OnnxModel implements org.latent4j.model.GraphModel {
    private final Plan plan;
    private final Steps.Workspace workspace;
    private final Parallelism parallelism;
    private float[][] slots;
    private int capacity;

    private OnnxModel(Plan plan, Parallelism parallelism) {
        this.plan = plan;
        this.parallelism = parallelism;
        this.workspace = new Steps.Workspace(parallelism);
        this.slots = new float[plan.slotFloats().length][];
    }

    /** Reads, checks and compiles an ONNX file; it runs on the calling thread. */
    public static OnnxModel load(Path file) throws IOException {
        return load(file, Parallelism.serial());
    }

    /**
     * Reads, checks and compiles an ONNX file; its products and convolutions run on
     * {@code parallelism} (which the caller owns and closes).
     *
     * @throws IOException one line naming the file and the problem (unreadable or damaged file,
     *                     unsupported opset or operator with its node, shapes that do not fit)
     */
    public static OnnxModel load(Path file, Parallelism parallelism) throws IOException {
        if (parallelism == null) {
            throw new IllegalArgumentException("parallelism must not be null (use Parallelism.serial())");
        }
        try {
            return new OnnxModel(Compiler.compile(OnnxReader.read(file)), parallelism);
        } catch (IOException | IllegalArgumentException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            // names from the file may hold line breaks: the message stays one line
            m = (m.startsWith(file.toString()) ? m : file + ": " + m).replaceAll("\\p{Cntrl}", "?");
            throw new IOException(m, e);
        }
    }

    /** Compiles a graph built in memory (the tests). */
    static OnnxModel of(OnnxGraph graph, Parallelism parallelism) {
        return new OnnxModel(Compiler.compile(graph), parallelism);
    }

    /** The names of the graph inputs, in the file's order. */
    public List<String> inputNames() {
        return plan.inputs().stream().map(Port::name).toList();
    }

    /** The names of the graph outputs, in the file's order. */
    public List<String> outputNames() {
        return plan.outputs().stream().map(Port::name).toList();
    }

    /** The dims of one sample of an input (its shape without the batch dimension). */
    public int[] inputShape(String name) {
        return sampleDims(port(plan.inputs(), name, "input"));
    }

    /** The dims of one sample of an output (its shape without the batch dimension). */
    public int[] outputShape(String name) {
        return sampleDims(port(plan.outputs(), name, "output"));
    }

    /** The opset the file imports. */
    public long opset() {
        return plan.opset();
    }

    /** One line on the compiled plan: nodes by operator, folded constants, steps, fusions, buffers. */
    public String describe() {
        return plan.summary();
    }

    /** Floats of all buffers per sample of a batch (what a batch of b costs: b times this, times 4 bytes). */
    public long floatsPerSample() {
        long n = 0;
        for (long f : plan.slotFloats()) {
            n += f;
        }
        return n;
    }

    private static int[] sampleDims(Port p) {
        return Arrays.copyOfRange(p.dims(), 1, p.dims().length);
    }

    private static Port port(List<Port> ports, String name, String what) {
        for (Port p : ports) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("the model has no " + what + " named '" + name + "' (its " + what + "s: "
                + ports.stream().map(Port::name).toList() + ")");
    }

    /**
     * Runs a batch through a model with one input: {@code input} holds {@code batch} samples back
     * to back, each row-major of {@link #inputShape} (PyTorch's contiguous layout).
     *
     * @return each output by name, {@code batch} samples of {@link #outputShape} (new arrays, the caller's)
     */
    public Map<String, float[]> run(int batch, float[] input) {
        if (plan.inputs().size() != 1) {
            throw new IllegalArgumentException("the model has " + plan.inputs().size() + " inputs " + inputNames()
                    + ": give them by name (run(batch, Map))");
        }
        return run(batch, Map.of(plan.inputs().get(0).name(), input));
    }

    /**
     * Runs a batch: every input by name, {@code batch} samples each, row-major. Reads the inputs
     * only; the outputs are new arrays.
     *
     * @throws IllegalArgumentException when an input is missing, unknown or of the wrong length
     */
    public synchronized Map<String, float[]> run(int batch, Map<String, float[]> inputs) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        for (String name : inputs.keySet()) {
            port(plan.inputs(), name, "input");
        }
        for (Port p : plan.inputs()) {
            float[] x = inputs.get(p.name());
            if (x == null) {
                throw new IllegalArgumentException("input '" + p.name() + "' is missing (the model's inputs: " + inputNames() + ")");
            }
            long need = (long) batch * p.perSample();
            if (x.length != need) {
                throw new IllegalArgumentException("input '" + p.name() + "' has " + x.length + " floats but a batch of " + batch + " of shape "
                        + Shapes.describe(p.dims()) + " needs " + need + (x.length % p.perSample() == 0 ? " (" + x.length / p.perSample()
                        + " samples given)" : " (" + p.perSample() + " per sample)"));
            }
        }
        ensure(batch);
        for (Port p : plan.inputs()) {
            System.arraycopy(inputs.get(p.name()), 0, slots[p.slot()], 0, batch * p.perSample());
        }
        for (Step s : plan.steps()) {
            s.run(slots, batch, workspace);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Port p : plan.outputs()) {
            out.put(p.name(), Arrays.copyOf(slots[p.slot()], batch * p.perSample()));
        }
        return out;
    }

    private void ensure(int batch) {
        if (batch <= capacity) {
            return;
        }
        long[] floats = plan.slotFloats();
        List<String> tooLarge = new ArrayList<>();
        for (long f : floats) {
            if (f * batch > Shapes.MAX_VALUES) {
                tooLarge.add(f + " floats per sample");
            }
        }
        if (!tooLarge.isEmpty()) {
            throw new IllegalArgumentException("a batch of " + batch + " is too large for this model (a buffer of " + tooLarge.get(0)
                    + " would exceed an array); run smaller batches");
        }
        for (int i = 0; i < floats.length; i++) {
            slots[i] = new float[(int) (floats[i] * batch)];
        }
        capacity = batch;
    }

    /** The parallelism the model runs on. */
    public Parallelism parallelism() {
        return parallelism;
    }
}
