package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.train.Trainer;

class AutoencoderTest {
    static Autoencoder randomVae() {
        ModelSpec spec = Model.encoder(784).dense(32).relu().gaussianLatent(4).decoder().dense(32).relu().dense(784).bernoulli();
        return Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 3));
    }

    static float[][] images(int n) {
        Dataset d = FashionMnist.bundledTest();
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    @Test
    void saveAndLoadGiveBitwiseTheSameOutputs(@TempDir Path dir) throws IOException {
        Autoencoder vae = randomVae();
        Path f = dir.resolve("m.safetensors");
        vae.save(f);
        Autoencoder back = Autoencoder.load(f);
        assertEquals(vae.spec(), back.spec());
        assertArrayEquals(vae.parameters(), back.parameters());
        float[][] x = images(5);
        assertArrayEquals(vae.reconstruct(x), back.reconstruct(x));
        assertArrayEquals(vae.sample(3, 9), back.sample(3, 9));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file is left behind");
        }
    }

    @Test
    void fileLayoutIsSafetensorsWithPyTorchNames(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.safetensors");
        randomVae().save(f);
        byte[] b = Files.readAllBytes(f);
        long hlen = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(b, 8, (int) hlen, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.contains("\"encoder.0.weight\":{\"dtype\":\"F32\",\"shape\":[32,784],\"data_offsets\":[0,100352]}"), header);
        assertTrue(header.contains("\"fc_mu.weight\"") && header.contains("\"decoder.2.bias\""), header);
        assertEquals(0, (8 + hlen) % 8, "data starts 8-byte aligned");
    }

    @Test
    void outputsHaveTheRightShapesAndRanges() {
        Autoencoder vae = randomVae();
        float[][] x = images(4);
        float[][] z = vae.encode(x);
        assertEquals(4, z.length);
        assertEquals(4, z[0].length);
        assertEquals(4, vae.encodeLogVariance(x)[0].length);
        float[][] r = vae.reconstruct(x);
        for (float[] row : r) {
            for (float v : row) {
                assertTrue(v > 0f && v < 1f, "Bernoulli means are probabilities: " + v);
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> vae.encode(new float[][] {new float[783]}));
        assertTrue(e.getMessage().contains("row 0 has 783 features but the model takes 784"), e.getMessage());
    }

    @Test
    void aRowsResultDoesNotDependOnTheBatchItIsIn() {
        Autoencoder vae = randomVae();
        float[][] x = images(20);
        float[][] all = vae.reconstruct(x);
        for (int n = 1; n <= 20; n++) {
            float[][] got = vae.reconstruct(java.util.Arrays.copyOf(x, n));
            for (int i = 0; i < n; i++) {
                assertArrayEquals(all[i], got[i], "row " + i + " in a batch of " + n);
            }
        }
    }

    @Test
    void inferenceFromManyThreadsMatchesOneThread() throws Exception {
        Autoencoder vae = randomVae();
        float[][] x = images(20);
        float[][] expect = vae.reconstruct(x);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            java.util.List<Future<Boolean>> fs = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                final int k = t;
                fs.add(pool.submit(() -> {
                    for (int rep = 0; rep < 30; rep++) {
                        int n = 1 + (k + rep) % 20;
                        float[][] part = java.util.Arrays.copyOf(x, n);
                        float[][] got = vae.reconstruct(part);
                        for (int i = 0; i < n; i++) {
                            if (!java.util.Arrays.equals(got[i], expect[i])) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : fs) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void damagedFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.safetensors");
        randomVae().save(f);
        byte[] b = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(b, b.length - 100));
        var e = assertThrows(IOException.class, () -> Autoencoder.load(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path huge = dir.resolve("huge.safetensors");
        byte[] h = b.clone();
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE / 2);
        Files.write(huge, h);
        e = assertThrows(IOException.class, () -> Autoencoder.load(huge));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
        Path none = dir.resolve("missing.safetensors");
        e = assertThrows(IOException.class, () -> Autoencoder.load(none));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }
}
