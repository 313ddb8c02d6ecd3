package org.latent4j.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.latent4j.model.Autoencoder;

/**
 * One compiled model per executor JVM: the model file's bytes arrive once per executor (a Spark
 * broadcast of {@link ModelFile}) and are read and compiled by the first task that needs them;
 * every later task of that JVM gets the same {@link Autoencoder} (safe for many threads at
 * once: read-only weights, per-thread buffers), found by the file's SHA-256. A few models are
 * kept (the last used first), so that a pipeline of several models does not recompile.
 */
final class ExecutorModels {
    private ExecutorModels() {}

    private static final int KEEP = 4;
    private static final Map<String, Autoencoder> CACHE = new LinkedHashMap<>(8, 0.75f, true);
    /** Compilations made in this JVM (for the test that tasks share one). */
    static final java.util.concurrent.atomic.AtomicInteger COMPILED = new java.util.concurrent.atomic.AtomicInteger();

    /** A model file as broadcast: its bytes and their SHA-256 (hex), computed once on the driver. */
    record ModelFile(String sha256, byte[] bytes) implements Serializable {
        static ModelFile of(byte[] bytes) {
            return new ModelFile(ExecutorModels.sha256(bytes), bytes);
        }
    }

    /** The compiled model of this file, compiled at most once per JVM while it is kept. */
    static synchronized Autoencoder get(ModelFile f) {
        Autoencoder m = CACHE.get(f.sha256());
        if (m == null) {
            m = read(f.bytes(), "the broadcast model");
            COMPILED.incrementAndGet();
            CACHE.put(f.sha256(), m);
            if (CACHE.size() > KEEP) {
                CACHE.remove(CACHE.keySet().iterator().next());
            }
        }
        return m;
    }

    /** A model from the bytes of its safetensors file, every tensor checked as {@link Autoencoder#load} does. */
    static Autoencoder read(byte[] bytes, String what) {
        try {
            Path tmp = Files.createTempFile("latent4j-model", ".safetensors");
            try {
                Files.write(tmp, bytes);
                return Autoencoder.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage().replaceFirst("^\\S*latent4j-model\\S*\\.safetensors: ", ""), e);
        }
    }

    /** The bytes of a model's safetensors file (as {@link Autoencoder#save} writes it). */
    static byte[] bytes(Autoencoder model) {
        try {
            Path tmp = Files.createTempFile("latent4j-model", ".safetensors");
            try {
                model.save(tmp, Map.of());
                return Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
