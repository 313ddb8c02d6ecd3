package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.latent4j.kernel.Parallelism;

/**
 * The ONNX graphs PyTorch 1.13's torch.onnx exported (benchmarks/onnx_fixtures.py: a dense VAE
 * encoder and decoder, a small conv AE) run in latent4j and match the outputs the same PyTorch
 * models computed in double precision, to 1e-5; the batch is dynamic (one sample at a time gives
 * the same bits as the batch of 5) and two threads give the same bits as one (on a batch of 40, which the kernels split).
 */
class OnnxFixturesTest {
    static final Path DIR = Path.of("src/test/resources/onnx");
    static final int BATCH = 5;

    static float[] floats(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        float[] v = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    @ParameterizedTest
    @CsvSource({"vae_encoder, x, mu logvar std, 20, 4",
                "vae_decoder, z, reconstruction, 4, 20",
                "conv_ae, x, reconstruction code, 144, 144"})
    void pytorchExportsRunAndMatchTheRecordedOutputs(String name, String input, String outputs, int inWidth, int firstOutWidth)
            throws IOException {
        OnnxModel m = OnnxModel.load(DIR.resolve(name + ".onnx"));
        assertEquals(13, m.opset());
        assertEquals(List.of(input), m.inputNames());
        List<String> outs = List.of(outputs.split(" "));
        assertEquals(outs, m.outputNames());
        float[] x = floats(DIR.resolve(name + ".in." + input + ".f32"));
        assertEquals(BATCH * inWidth, x.length);
        Map<String, float[]> got = m.run(BATCH, x);
        for (String o : outs) {
            float[] want = floats(DIR.resolve(name + ".out." + o + ".f32"));
            float[] y = got.get(o);
            assertEquals(want.length, y.length, o);
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs((double) y[i] - want[i]));
            }
            assertTrue(worst <= 1e-5, name + " " + o + ": largest difference from PyTorch (double) " + worst);
            int per = 1;
            for (int d : m.outputShape(o)) {
                per *= d;
            }
            assertEquals(want.length, BATCH * per, o);
        }
        assertEquals(BATCH * firstOutWidth, got.get(outs.get(0)).length);
        // one sample at a time: the same bits (the batch is dynamic)
        int perIn = inWidth;
        for (int s = 0; s < BATCH; s++) {
            float[] one = java.util.Arrays.copyOfRange(x, s * perIn, (s + 1) * perIn);
            Map<String, float[]> single = m.run(1, one);
            for (String o : outs) {
                float[] all = got.get(o);
                int per = all.length / BATCH;
                assertArrayEquals(java.util.Arrays.copyOfRange(all, s * per, (s + 1) * per), single.get(o), o + " sample " + s);
            }
        }
        // two threads on a batch large enough to be split (40 = the 5 samples 8 times): the same bits as one thread
        int big = 8 * BATCH;
        float[] x8 = new float[big * perIn];
        for (int r = 0; r < 8; r++) {
            System.arraycopy(x, 0, x8, r * x.length, x.length);
        }
        Map<String, float[]> serial = m.run(big, x8);
        try (Parallelism two = Parallelism.of(2)) {
            Map<String, float[]> par = OnnxModel.load(DIR.resolve(name + ".onnx"), two).run(big, x8);
            for (String o : outs) {
                assertArrayEquals(serial.get(o), par.get(o), o + " on 2 threads");
                float[] all = got.get(o);
                assertArrayEquals(all, java.util.Arrays.copyOfRange(par.get(o), 7 * all.length, 8 * all.length), o + " batch 40 vs 5");
            }
        }
    }
}
