package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

/** The use commands feed a model conditioned on values its context vectors (--context FILE). */
class ContextCommandsTest {
    @Test
    void encodeReconstructAndEvalTakeContextVectors(@TempDir Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        int n = 40;
        float[][] x = new float[n][4], c = new float[n][2];
        for (int i = 0; i < n; i++) {
            c[i][0] = (float) r.nextGaussian();
            c[i][1] = (float) r.nextGaussian();
            for (int j = 0; j < 4; j++) {
                x[i][j] = (float) (c[i][j % 2] + 0.3 * r.nextGaussian());
            }
        }
        float[] flat = new float[n * 4];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x[i], 0, flat, i * 4, 4);
        }
        ModelSpec spec = Model.encoder(4).conditionedOn(2).dense(8).tanh().latent(1).decoder().dense(4).gaussian();
        Autoencoder m = Trainer.fit(spec, new Dataset(flat, n, 4, null, "rows").withContext(c), null,
                TrainingConfig.defaults().withEpochs(2).withBatchSize(10).withThreads(1), TrainingListener.NONE).model();
        Path model = dir.resolve("m.safetensors"), data = dir.resolve("x.csv"), ctx = dir.resolve("c.csv");
        m.save(model);
        Csv.write(data, x);
        Csv.write(ctx, c);

        MainTest.Run run = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--context", ctx.toString(),
                "--out", dir.resolve("z.csv").toString());
        assertEquals(0, run.code(), run.err());
        float[][] want = m.encode(x, c);
        Dataset got = Csv.read(dir.resolve("z.csv"));
        for (int i = 0; i < n; i++) {
            assertArrayEquals(want[i], got.row(i), 1e-6f, "row " + i);
        }
        run = MainTest.run("reconstruct", "--model", model.toString(), "--data", data.toString(), "--context", ctx.toString(),
                "--out", dir.resolve("r.csv").toString());
        assertEquals(0, run.code(), run.err());
        assertArrayEquals(m.reconstruct(x, c)[7], Csv.read(dir.resolve("r.csv")).row(7), 1e-6f);
        run = MainTest.run("eval", "--model", model.toString(), "--data", data.toString(), "--context", ctx.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("\"rows\":40") && run.out().contains("\"mse\":"), run.out());

        Path wide = dir.resolve("wide.csv");
        Csv.write(wide, x);
        CliErrorsTest.oneLine(MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--context",
                wide.toString(), "--out", dir.resolve("z.csv").toString()), "has 40 rows of 4 values", "conditioned on 2 values per row");
        CliErrorsTest.oneLine(MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out",
                dir.resolve("z.csv").toString()), "give --condition CLASS, --condition-labels FILE or --context FILE");
        CliErrorsTest.oneLine(MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--context",
                ctx.toString(), "--condition", "1", "--out", dir.resolve("z.csv").toString()), "--context with --condition: give one");
    }
}
