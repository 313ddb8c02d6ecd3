package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.latent4j.onnx.proto.Onnx;

/**
 * The Java classes generated from the official onnx.proto (src/main/proto/regenerate.sh) read a
 * model that the official python onnx package wrote (benchmarks/tools/make_onnx_proto_fixture.py),
 * field by field against the values that script put in; writing it back gives the same bytes;
 * a truncated file is refused.
 */
class OnnxProtoTest {
    static byte[] fixture() throws IOException {
        try (InputStream in = OnnxProtoTest.class.getResourceAsStream("/onnx/gemm-by-python-onnx.onnx")) {
            return in.readAllBytes();
        }
    }

    @Test
    void readsWhatPythonOnnxWrote() throws IOException {
        Onnx.ModelProto model = Onnx.ModelProto.parseFrom(fixture());
        assertEquals(8, model.getIrVersion());
        assertEquals("make_onnx_proto_fixture", model.getProducerName());
        assertEquals(1, model.getOpsetImportCount());
        assertEquals("", model.getOpsetImport(0).getDomain());
        assertEquals(17, model.getOpsetImport(0).getVersion());
        Onnx.GraphProto g = model.getGraph();
        assertEquals("tiny", g.getName());
        assertEquals(2, g.getNodeCount());
        Onnx.NodeProto gemm = g.getNode(0);
        assertEquals("Gemm", gemm.getOpType());
        assertEquals("gemm0", gemm.getName());
        assertEquals(Arrays.asList("x", "W", "b"), gemm.getInputList());
        assertEquals(Arrays.asList("h"), gemm.getOutputList());
        assertEquals(2, gemm.getAttributeCount());
        for (Onnx.AttributeProto a : gemm.getAttributeList()) {
            switch (a.getName()) {
                case "transB" -> {
                    assertEquals(Onnx.AttributeProto.AttributeType.INT, a.getType());
                    assertEquals(1, a.getI());
                }
                case "alpha" -> {
                    assertEquals(Onnx.AttributeProto.AttributeType.FLOAT, a.getType());
                    assertEquals(0.5f, a.getF());
                }
                default -> throw new AssertionError("unexpected attribute " + a.getName());
            }
        }
        assertEquals("Sigmoid", g.getNode(1).getOpType());
        // The input's shape: a symbolic batch dimension and a fixed 3.
        Onnx.TypeProto.Tensor x = g.getInput(0).getType().getTensorType();
        assertEquals(Onnx.TensorProto.DataType.FLOAT_VALUE, x.getElemType());
        assertEquals("batch", x.getShape().getDim(0).getDimParam());
        assertEquals(3, x.getShape().getDim(1).getDimValue());
        // W as raw little-endian floats, b as float_data.
        Onnx.TensorProto w = g.getInitializer(0), b = g.getInitializer(1);
        assertEquals("W", w.getName());
        assertEquals(Arrays.asList(2L, 3L), w.getDimsList());
        float[] wv = new float[6];
        ByteBuffer.wrap(w.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(wv);
        assertArrayEquals(new float[] {1f, -2f, 0.25f, 3.5f, 0f, -1f}, wv);
        assertEquals("b", b.getName());
        assertEquals(Arrays.asList(0.5f, -0.75f), b.getFloatDataList());
    }

    @Test
    void writesTheSameBytesBackAndRefusesATruncatedFile() throws IOException {
        byte[] bytes = fixture();
        assertArrayEquals(bytes, Onnx.ModelProto.parseFrom(bytes).toByteArray());
        // Cut inside the graph: a length-delimited field runs past the end.
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 40);
        InvalidProtocolBufferException e = assertThrows(InvalidProtocolBufferException.class, () -> Onnx.ModelProto.parseFrom(cut));
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("end"), e.getMessage());
    }
}
