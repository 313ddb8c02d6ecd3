package org.latent4j.onnx;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An ONNX graph as the compiler reads it, free of protobuf: what {@link OnnxReader} makes of a
 * checked {@code ModelProto}, and what the tests build by hand. Every array here has been
 * checked against its declared sizes by whoever made it.
 *
 * @param opset        the version of the default operator set ("" or "ai.onnx") the model imports
 * @param inputs       the graph inputs that are not initializers, in order
 * @param outputs      the graph outputs, in order
 * @param initializers the constant tensors (weights), by name
 * @param nodes        the nodes in the file's order (ONNX requires a topological one)
 */
record OnnxGraph(long opset, List<ValueInfo> inputs, List<ValueInfo> outputs, Map<String, Tensor> initializers, List<Node> nodes) {

    /** Element types of ONNX tensors latent4j takes: float32 (data) and int64 (shapes, indices). */
    enum Type { FLOAT, INT64 }

    /**
     * A constant tensor: {@code dims} (row-major, possibly rank 0) and its values, {@code floats}
     * for FLOAT or {@code longs} for INT64 (the other one null); the array length is the product of the dims.
     */
    record Tensor(String name, int[] dims, float[] floats, long[] longs) {
        Tensor {
            if ((floats == null) == (longs == null)) {
                throw new IllegalArgumentException("tensor " + name + ": exactly one of floats and longs");
            }
            long n = Shapes.count(dims, "tensor " + name);
            int length = floats != null ? floats.length : longs.length;
            if (n != length) {
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(dims) + " (" + n + " values) but "
                        + length + " values");
            }
        }

        static Tensor ofFloats(String name, int[] dims, float[] values) {
            return new Tensor(name, dims, values, null);
        }

        static Tensor ofLongs(String name, int[] dims, long[] values) {
            return new Tensor(name, dims, null, values);
        }

        Type type() {
            return floats != null ? Type.FLOAT : Type.INT64;
        }
    }

    /**
     * A graph input or output: its name and declared dims, -1 where the file names a symbolic
     * dimension (or gives none); {@code dims} is null when the file declares no shape.
     */
    record ValueInfo(String name, int[] dims) {}

    /** A name from the file as a message shows it: control characters (a line break) as '?', at most 200 characters. */
    static String printable(String s) {
        String t = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    /** The kinds of attribute values latent4j reads. */
    enum AttributeKind { FLOAT, INT, STRING, FLOATS, INTS, TENSOR, OTHER }

    /**
     * A node attribute; the field of its kind holds the value ({@code OTHER}: a graph, a sparse
     * tensor or strings, which no supported operator takes).
     */
    record Attribute(String name, AttributeKind kind, float f, long i, String s, float[] floats, long[] ints, Tensor t) {
        static Attribute ofInt(String name, long v) {
            return new Attribute(name, AttributeKind.INT, 0f, v, null, null, null, null);
        }

        static Attribute ofFloat(String name, float v) {
            return new Attribute(name, AttributeKind.FLOAT, v, 0, null, null, null, null);
        }

        static Attribute ofInts(String name, long... v) {
            return new Attribute(name, AttributeKind.INTS, 0f, 0, null, null, v, null);
        }

        static Attribute ofString(String name, String v) {
            return new Attribute(name, AttributeKind.STRING, 0f, 0, v, null, null, null);
        }

        static Attribute ofTensor(String name, Tensor v) {
            return new Attribute(name, AttributeKind.TENSOR, 0f, 0, null, null, null, v);
        }
    }

    /**
     * A node: its position in the file ({@code index}, from 0), name (may be empty), operator,
     * domain ("" for the default set), input names ("" for an omitted optional input), output names and attributes.
     */
    record Node(int index, String name, String opType, String domain, List<String> inputs, List<String> outputs,
                Map<String, Attribute> attributes) {
        /** "node 3 (Gemm '/fc1/Gemm')": how every message names the node. */
        String describe() {
            return "node " + index + " (" + printable(opType) + (name.isEmpty() ? "" : " '" + printable(name) + "'") + ")";
        }
    }
}
