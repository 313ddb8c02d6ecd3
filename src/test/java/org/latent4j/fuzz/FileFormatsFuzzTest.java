package org.latent4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.latent4j.data.Csv;
import org.latent4j.data.Idx;
import org.latent4j.data.Npy;
import org.latent4j.dsl.Json;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.model.Models;
import org.latent4j.train.Checkpoint;

/**
 * Coverage-guided fuzz tests (Jazzer, JUnit mode) of everything that reads a file a user may be
 * handed: model files, IDX, CSV, .npy and the model-spec JSON. The contract: a clear
 * IOException (or IllegalArgumentException for a spec given as a string), never another
 * exception, a hang, or a huge allocation. {@code ./latent4j test} runs each target in a JVM of its
 * own (surefire executions fuzz-*; the unit-test JVM excludes the "jazzer" tag): the seeds and past
 * crashes, then a short, fixed time of fuzzing; {@code ./latent4j fuzz 5m} runs them longer. Seeds and every crash found (a regression
 * input, replayed by every test run) are in src/test/resources/org/latent4j/fuzz/FileFormatsFuzzTestInputs/.
 */
class FileFormatsFuzzTest {
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("latent4j-fuzz");
            DIR.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path write(String name, byte[] bytes) {
        Path f = DIR.resolve(name);
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    @FuzzTest(maxDuration = "10s")
    void modelFile(byte[] bytes) {
        Path f = write("model.safetensors", bytes);
        try {
            Models.load(f);
        } catch (IOException expected) {
            // a clear error is the right answer to a bad file
        }
        try {
            Checkpoint.read(f);   // what --resume reads
        } catch (IOException expected) {
            // a clear error
        }
        try {
            Models.load(f, PYTORCH_SPEC);   // a PyTorch state_dict (F16, BF16, F64, integer tensors: ./latent4j import)
        } catch (IOException expected) {
            // a clear error
        }
    }

    /** A small spec with a batch norm for the importer's path (its names: encoder.0.*, encoder.2.*, fc_mu, fc_logvar, decoder.0). */
    private static final ModelSpec PYTORCH_SPEC = org.latent4j.dsl.Model.encoder(3).dense(2).relu().batchNorm().gaussianLatent(1).decoder()
            .dense(3).bernoulli();

    @FuzzTest(maxDuration = "10s")
    void idx(byte[] bytes) {
        try {
            Idx.readImages(new ByteArrayInputStream(bytes), "fuzz-idx3-ubyte");
        } catch (IOException expected) {
            // a clear error
        }
        try {
            Idx.readLabels(new ByteArrayInputStream(bytes), "fuzz-idx1-ubyte");
        } catch (IOException expected) {
            // a clear error
        }
        try {
            Idx.readImages(write("fuzz-idx3-ubyte.gz", bytes), null);
        } catch (IOException expected) {
            // a clear error (the file path also takes the gzip branch when the bytes start with its magic)
        }
    }

    @FuzzTest(maxDuration = "10s")
    void csv(byte[] bytes) {
        Path f = write("fuzz.csv", bytes);
        try {
            Csv.read(f);
        } catch (IOException expected) {
            // a clear error
        }
        try {
            Csv.read(f, true);
        } catch (IOException expected) {
            // a clear error
        }
        // The table reader (header names, label and ID columns, quoted cells) on the same bytes.
        String[][] columns = {{null, null}, {"1", "2"}, {"id", null}, {null, "Class"}};
        for (String[] c : columns) {
            try {
                Csv.readTable(f, c[0], c[1], c[1] != null);
            } catch (IOException expected) {
                // a clear error
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void npy(byte[] bytes) {
        Path f = write("fuzz.npy", bytes);
        try {
            Npy.read(f);
        } catch (IOException expected) {
            // a clear error
        }
        try {
            Npy.read(f, true);
        } catch (IOException expected) {
            // a clear error
        }
    }

    @FuzzTest(maxDuration = "10s")
    void specJson(byte[] bytes) {
        String json = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        try {
            Json.parse(json);
        } catch (IllegalArgumentException expected) {
            // a clear error
        }
        try {
            Graph.build(ModelSpec.fromJson(json)).fuse();
        } catch (IllegalArgumentException expected) {
            // a clear error naming the field
        }
    }
}
