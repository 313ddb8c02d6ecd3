package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.onnx.OnnxGraph.Attribute;
import org.latent4j.onnx.proto.Onnx;

/**
 * The clear one-line errors: unsupported operators (refused before anything runs, naming the
 * operator, node index and name), opsets below 13, shapes that do not fit (at load and at run),
 * and hostile files (truncated, garbage, raw data of the wrong length, dims that overflow,
 * external data).
 */
class OnnxErrorsTest {
    @TempDir
    Path dir;

    static void oneLine(String message) {
        assertFalse(message.contains("\n"), "one line: " + message);
    }

    @Test
    void anUnsupportedOperatorIsRefusedBeforeAnythingElseNamingItsNode() {
        // node 0 would fail its own shape check, node 1 is unsupported: the operator check comes first
        G g = new G().input("x", 4).output("y").init("W", new int[] {3, 5}, new float[15])
                .node("Gemm", List.of("x", "W"), List.of("h"))
                .node("Transpose", List.of("h"), List.of("y"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, g::model);
        assertTrue(e.getMessage().startsWith("node 1 (Transpose 'transpose1'): operator Transpose is not supported"), e.getMessage());
        oneLine(e.getMessage());
        G custom = new G().input("x", 4).output("y");
        custom.nodes.add(new OnnxGraph.Node(0, "mine", "Relu", "com.example", List.of("x"), List.of("y"), java.util.Map.of()));
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class, custom::model);
        assertTrue(c.getMessage().contains("node 0 (Relu 'mine'): operator Relu of domain 'com.example' is not supported"), c.getMessage());
    }

    @Test
    void opsetsBelow13AreRefused() {
        G g = new G().input("x", 4).output("y").node("Relu", List.of("x"), List.of("y"));
        g.opset = 11;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, g::model);
        assertTrue(e.getMessage().contains("opset 11") && e.getMessage().contains("opset_version=13"), e.getMessage());
    }

    @Test
    void shapesThatDoNotFitNameTheNodeAndBothShapes() {
        G gemm = new G().input("x", 4).output("y").init("W", new int[] {3, 5}, new float[15]).node("Gemm", List.of("x", "W"), List.of("y"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, gemm::model);
        assertEquals("node 0 (Gemm 'gemm0'): A (batch, 4) has 4 columns but B (3, 5) has 3 rows", e.getMessage());
        G reshape = new G().input("x", 6).output("y").ints("s", 4, -1).node("Reshape", List.of("x", "s"), List.of("y"));
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class, reshape::model);
        assertTrue(r.getMessage().startsWith("node 0 (Reshape 'reshape0'): shape [4, -1] would change the batch dimension"), r.getMessage());
        G add = new G().input("x", 3).output("y").init("v", new int[] {4}, new float[4]).node("Add", List.of("x", "v"), List.of("y"));
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, add::model);
        assertTrue(a.getMessage().contains("shapes (batch, 3) and (4,) do not broadcast"), a.getMessage());
        G computedWeight = new G().input("x", 3).input("w", 3).output("y").node("MatMul", List.of("x", "w"), List.of("y"));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, computedWeight::model);
        assertTrue(m.getMessage().contains("B 'w' is computed"), m.getMessage());
        G declared = new G().input("x", 3).node("Relu", List.of("x"), List.of("y"));
        declared.outputs.add(new OnnxGraph.ValueInfo("y", new int[] {-1, 4}));
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class, declared::model);
        assertEquals("graph output 'y' is declared (batch, 4) but the graph computes (batch, 3)", d.getMessage());
        G dilated = new G().input("x", 1, 5, 5).output("y").init("W", new int[] {1, 1, 3, 3}, new float[9])
                .node("Conv", List.of("x", "W"), List.of("y"), Attribute.ofInts("dilations", 2, 2));
        assertTrue(assertThrows(IllegalArgumentException.class, dilated::model).getMessage().contains("dilations [2, 2] are not supported"));
    }

    @Test
    void aWrongInputAtRunTimeSaysWhatWasExpected() {
        OnnxModel m = new G().input("x", 4).output("y").node("Relu", List.of("x"), List.of("y")).model();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.run(3, new float[10]));
        assertEquals("input 'x' has 10 floats but a batch of 3 of shape (batch, 4) needs 12 (4 per sample)", e.getMessage());
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> m.run(2, java.util.Map.of("z", new float[8])));
        assertTrue(n.getMessage().contains("no input named 'z'"), n.getMessage());
        assertEquals(12, m.run(3, new float[12]).get("y").length);
    }

    // ------------------------------------------------------------------ files

    static Onnx.TensorProto floats(String name, List<Long> dims, float... v) {
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(OnnxReader.FLOAT).addAllDims(dims);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return t.setRawData(ByteString.copyFrom(b.array())).build();
    }

    static Onnx.ValueInfoProto info(String name, long... dims) {
        Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(OnnxReader.FLOAT).setShape(s))).build();
    }

    /** x (batch, 2) -> Gemm by W (2, 2) -> y. */
    static Onnx.ModelProto.Builder model(Onnx.TensorProto w) {
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("g").addInput(info("x", -1, 2)).addOutput(info("y", -1, 2))
                .addInitializer(w)
                .addNode(Onnx.NodeProto.newBuilder().setOpType("Gemm").setName("fc").addInput("x").addInput("W").addOutput("y"))
                .build();
        return Onnx.ModelProto.newBuilder().setIrVersion(8).addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g);
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    @Test
    void aWellFormedFileBuiltHereRunsAndItsDamagedTwinsGiveOneLineErrors() throws IOException {
        Path good = write("good.onnx", model(floats("W", List.of(2L, 2L), 1, 2, 3, 4)).build().toByteArray());
        float[] y = OnnxModel.load(good).run(1, new float[] {1, 1}).get("y");
        assertEquals(List.of(4f, 6f), List.of(y[0], y[1]));   // (1, 1) (1 2; 3 4)

        // raw_data shorter than the dims say
        Onnx.TensorProto shortRaw = floats("W", List.of(2L, 2L), 1, 2, 3);
        IOException e = assertThrows(IOException.class, () -> OnnxModel.load(write("short.onnx", model(shortRaw).build().toByteArray())));
        assertTrue(e.getMessage().contains("initializer 'W': raw_data has 12 bytes but dims [2, 2] of FLOAT need 16"), e.getMessage());
        oneLine(e.getMessage());

        // dims whose product overflows: refused before any allocation
        Onnx.TensorProto huge = floats("W", List.of(1L << 20, 1L << 20, 1L << 20), 1);
        IOException h = assertThrows(IOException.class, () -> OnnxModel.load(write("huge.onnx", model(huge).build().toByteArray())));
        assertTrue(h.getMessage().contains("hold more values than an array"), h.getMessage());

        // external data: refused, naming the file it points to
        Onnx.TensorProto external = Onnx.TensorProto.newBuilder().setName("W").setDataType(OnnxReader.FLOAT).addAllDims(List.of(2L, 2L))
                .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("../../etc/passwd")).build();
        IOException x = assertThrows(IOException.class, () -> OnnxModel.load(write("external.onnx", model(external).build().toByteArray())));
        assertTrue(x.getMessage().contains("initializer 'W' keeps its data outside the model (file '../../etc/passwd')"), x.getMessage());

        // an int32 weight
        Onnx.TensorProto ints = Onnx.TensorProto.newBuilder().setName("W").setDataType(6).addAllDims(List.of(2L, 2L))
                .addAllInt32Data(List.of(1, 2, 3, 4)).build();
        IOException t = assertThrows(IOException.class, () -> OnnxModel.load(write("int32.onnx", model(ints).build().toByteArray())));
        assertTrue(t.getMessage().contains("has element type INT32"), t.getMessage());

        // a hostile name with line breaks: the message stays one line
        Onnx.ModelProto.Builder named = model(floats("W", List.of(2L, 2L), 1, 2, 3, 4));
        named.setGraph(named.getGraph().toBuilder().setNode(0, named.getGraph().getNode(0).toBuilder().setOpType("Evil").setName("a\nb\r\nc")));
        IOException nl = assertThrows(IOException.class, () -> OnnxModel.load(write("newline.onnx", named.build().toByteArray())));
        assertTrue(nl.getMessage().contains("node 0 (Evil 'a?b??c'): operator Evil is not supported"), nl.getMessage());
        oneLine(nl.getMessage());

        // opset 12 in the file
        byte[] old = model(floats("W", List.of(2L, 2L), 1, 2, 3, 4)).setOpsetImport(0, Onnx.OperatorSetIdProto.newBuilder().setVersion(12))
                .build().toByteArray();
        IOException o = assertThrows(IOException.class, () -> OnnxModel.load(write("old.onnx", old)));
        assertTrue(o.getMessage().contains("old.onnx: the model imports opset 12"), o.getMessage());
    }

    @Test
    void truncatedAndGarbageFilesGiveOneLineErrorsNamingTheFile() throws IOException {
        byte[] bytes = Files.readAllBytes(OnnxFixturesTest.DIR.resolve("conv_ae.onnx"));
        for (int cut : new int[] {bytes.length - 1, bytes.length / 2, 100, 3}) {
            Path f = write("cut" + cut + ".onnx", Arrays.copyOf(bytes, cut));
            IOException e = assertThrows(IOException.class, () -> OnnxModel.load(f), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
            oneLine(e.getMessage());
        }
        Path cut = write("half.onnx", Arrays.copyOf(bytes, bytes.length / 2));
        IOException e = assertThrows(IOException.class, () -> OnnxModel.load(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path text = write("text.onnx", "this is not a model\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        IOException g = assertThrows(IOException.class, () -> OnnxModel.load(text));
        assertTrue(g.getMessage().startsWith(text + ": "), g.getMessage());
        Path empty = write("empty.onnx", new byte[0]);
        assertTrue(assertThrows(IOException.class, () -> OnnxModel.load(empty)).getMessage().contains("holds no graph"));
        IOException missing = assertThrows(IOException.class, () -> OnnxModel.load(dir.resolve("nope.onnx")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    }
}
