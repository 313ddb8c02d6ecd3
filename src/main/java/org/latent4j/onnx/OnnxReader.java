package org.latent4j.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.onnx.OnnxGraph.Attribute;
import org.latent4j.onnx.OnnxGraph.AttributeKind;
import org.latent4j.onnx.OnnxGraph.Node;
import org.latent4j.onnx.OnnxGraph.Tensor;
import org.latent4j.onnx.OnnxGraph.ValueInfo;
import org.latent4j.onnx.proto.Onnx;

/**
 * Reads an ONNX file into an {@link OnnxGraph}, treating it as hostile data: the file's size is
 * checked before it is read, protobuf-java (the classes generated from the official onnx.proto)
 * parses it with a nesting limit, and every tensor's dims are checked (each in [0, 2^31), their
 * product within an array) and its data's length checked against them before any array is made.
 * Tensors stored outside the file (external data) and sparse or segmented tensors are refused;
 * only float32 and int64 tensors are taken.
 */
final class OnnxReader {
    private OnnxReader() {}

    /** Largest file read (protobuf's own limit is 2 GiB). */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 16;

    /** ONNX TensorProto.DataType values latent4j reads. */
    static final int FLOAT = 1, INT64 = 7;

    static OnnxGraph read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IOException(file + ": " + size + " bytes, larger than the 2 GiB an ONNX file without external data can be");
        }
        return parse(Files.readAllBytes(file));
    }

    /** Parses and converts the bytes; any problem is an IllegalArgumentException (wrapped into an IOException naming the file by the caller). */
    static OnnxGraph parse(byte[] bytes) throws IOException {
        Onnx.ModelProto model;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(64);
            model = Onnx.ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("not a readable ONNX file (truncated or damaged: " + e.getMessage() + ")");
        }
        if (bytes.length == 0 || !model.hasGraph()) {
            throw new IOException("not an ONNX model: it holds no graph");
        }
        long opset = -1;
        for (Onnx.OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                opset = o.getVersion();
            }
        }
        if (opset < 0) {
            throw new IOException("the model imports no version of the default ONNX operator set (opset_import)");
        }
        try {
            return graph(model.getGraph(), opset);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static OnnxGraph graph(Onnx.GraphProto g, long opset) {
        if (g.getSparseInitializerCount() > 0) {
            throw new IllegalArgumentException("sparse initializers are not supported ('" + g.getSparseInitializer(0).getValues().getName() + "')");
        }
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        for (Onnx.TensorProto t : g.getInitializerList()) {
            Tensor v = tensor(t, "initializer");
            if (initializers.put(v.name(), v) != null) {
                throw new IllegalArgumentException("two initializers named '" + v.name() + "'");
            }
        }
        List<ValueInfo> inputs = new ArrayList<>();
        for (Onnx.ValueInfoProto v : g.getInputList()) {
            if (!initializers.containsKey(v.getName())) {   // an initializer listed as an input (IR < 4) is a constant here
                inputs.add(valueInfo(v, "graph input"));
            }
        }
        List<ValueInfo> outputs = new ArrayList<>();
        for (Onnx.ValueInfoProto v : g.getOutputList()) {
            outputs.add(valueInfo(v, "graph output"));
        }
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < g.getNodeCount(); i++) {
            nodes.add(node(g.getNode(i), i));
        }
        return new OnnxGraph(opset, List.copyOf(inputs), List.copyOf(outputs), initializers, List.copyOf(nodes));
    }

    private static Node node(Onnx.NodeProto n, int index) {
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        String where = "node " + index + " (" + OnnxGraph.printable(n.getOpType()) + (n.getName().isEmpty() ? "" : " '"
                + OnnxGraph.printable(n.getName()) + "'") + ")";
        for (Onnx.AttributeProto a : n.getAttributeList()) {
            if (attributes.put(a.getName(), attribute(a, where)) != null) {
                throw new IllegalArgumentException(where + ": two attributes named " + a.getName());
            }
        }
        return new Node(index, n.getName(), n.getOpType(), n.getDomain(), List.copyOf(n.getInputList()), List.copyOf(n.getOutputList()),
                attributes);
    }

    private static Attribute attribute(Onnx.AttributeProto a, String where) {
        String name = a.getName();
        if (!a.getRefAttrName().isEmpty()) {
            return new Attribute(name, AttributeKind.OTHER, 0f, 0, null, null, null, null);
        }
        return switch (a.getType()) {
            case FLOAT -> Attribute.ofFloat(name, a.getF());
            case INT -> Attribute.ofInt(name, a.getI());
            case STRING -> Attribute.ofString(name, a.getS().toString(StandardCharsets.UTF_8));
            case FLOATS -> {
                float[] f = new float[a.getFloatsCount()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = a.getFloats(i);
                }
                yield new Attribute(name, AttributeKind.FLOATS, 0f, 0, null, f, null, null);
            }
            case INTS -> {
                long[] v = new long[a.getIntsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getInts(i);
                }
                yield Attribute.ofInts(name, v);
            }
            case TENSOR -> Attribute.ofTensor(name, tensor(a.getT(), where + " attribute " + name));
            default -> new Attribute(name, AttributeKind.OTHER, 0f, 0, null, null, null, null);
        };
    }

    private static ValueInfo valueInfo(Onnx.ValueInfoProto v, String what) {
        String name = v.getName();
        if (!v.hasType() || !v.getType().hasTensorType()) {
            throw new IllegalArgumentException(what + " '" + name + "' is not a tensor");
        }
        Onnx.TypeProto.Tensor t = v.getType().getTensorType();
        if (t.getElemType() != FLOAT) {
            throw new IllegalArgumentException(what + " '" + name + "' has element type " + typeName(t.getElemType())
                    + "; latent4j takes float32 inputs and outputs");
        }
        if (!t.hasShape()) {
            return new ValueInfo(name, null);
        }
        int rank = t.getShape().getDimCount();
        if (rank > 64) {
            throw new IllegalArgumentException(what + " '" + name + "' has rank " + rank);
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            Onnx.TensorShapeProto.Dimension d = t.getShape().getDim(i);
            if (d.hasDimValue()) {
                long value = d.getDimValue();
                if (value < 0 || value > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(what + " '" + name + "' has dimension " + i + " of size " + value);
                }
                dims[i] = (int) value;
            } else {
                dims[i] = -1;
            }
        }
        return new ValueInfo(name, dims);
    }

    static String typeName(int type) {
        Onnx.TensorProto.DataType t = Onnx.TensorProto.DataType.forNumber(type);
        return t == null ? "number " + type : t.name();
    }

    /** A checked tensor: float32 or int64, dims in range, data of exactly the dims' size, in the file. */
    static Tensor tensor(Onnx.TensorProto t, String what) {
        String name = t.getName();
        String label = what + " '" + name + "'";
        if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            String location = "";
            for (Onnx.StringStringEntryProto e : t.getExternalDataList()) {
                if (e.getKey().equals("location")) {
                    location = " (file '" + e.getValue() + "')";
                }
            }
            throw new IllegalArgumentException(label + " keeps its data outside the model" + location + "; latent4j reads models with their "
                    + "weights inside (onnx.save_model(model, path, save_as_external_data=False))");
        }
        if (t.hasSegment()) {
            throw new IllegalArgumentException(label + " is a segment of a tensor; not supported");
        }
        int type = t.getDataType();
        if (type != FLOAT && type != INT64) {
            throw new IllegalArgumentException(label + " has element type " + typeName(type) + "; latent4j reads FLOAT and INT64 tensors");
        }
        if (t.getDimsCount() > 64) {
            throw new IllegalArgumentException(label + " has rank " + t.getDimsCount());
        }
        int[] dims = new int[t.getDimsCount()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = t.getDims(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(label + " has dimension " + i + " of size " + d);
            }
            dims[i] = (int) d;
            count *= d;
            if (count > Shapes.MAX_VALUES) {
                throw new IllegalArgumentException(label + ": its dims " + t.getDimsList() + " hold more values than an array");
            }
        }
        int n = (int) count;
        ByteString raw = t.getRawData();
        int element = type == FLOAT ? 4 : 8;
        if (!raw.isEmpty()) {
            if (raw.size() != (long) n * element) {
                throw new IllegalArgumentException(label + ": raw_data has " + raw.size() + " bytes but dims " + t.getDimsList() + " of "
                        + typeName(type) + " need " + (long) n * element);
            }
            ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (type == FLOAT) {
                float[] v = new float[n];
                b.asFloatBuffer().get(v);
                return Tensor.ofFloats(name, dims, v);
            }
            long[] v = new long[n];
            b.asLongBuffer().get(v);
            return Tensor.ofLongs(name, dims, v);
        }
        int given = type == FLOAT ? t.getFloatDataCount() : t.getInt64DataCount();
        if (given != n) {
            throw new IllegalArgumentException(label + ": " + given + " values but dims " + t.getDimsList() + " need " + n);
        }
        if (type == FLOAT) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = t.getFloatData(i);
            }
            return Tensor.ofFloats(name, dims, v);
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = t.getInt64Data(i);
        }
        return Tensor.ofLongs(name, dims, v);
    }
}
