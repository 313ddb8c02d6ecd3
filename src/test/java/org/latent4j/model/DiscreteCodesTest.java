package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.train.Trainer;

/**
 * Code indices of VQ and FSQ models agree with the model's own encode / reconstruct, and the code
 * priors are distributions (their probabilities over every index grid of a tiny grid sum to 1)
 * that their samples follow.
 */
class DiscreteCodesTest {
    static Autoencoder model(ModelSpec spec) {
        return Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 3));
    }

    /**
     * More rows than one forward pass takes (the batch methods and the index encoder run in chunks
     * of Autoencoder.CHUNK rows): the same results as slices of 100 rows,
     * the boundaries included (a whole training set at once ran out of heap before the chunks).
     */
    @Test
    void largeCallsRunInChunksWithTheSameResults() {
        Dataset data = FashionMnist.bundledTest();
        int n = 2 * Autoencoder.CHUNK + 100;
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = data.row(i % data.rows()).clone();
            x[i][i % 784] = (i % 7) / 7f;   // rows differ even where the bundled slice repeats
        }
        Autoencoder m = model(Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(8, 4, 2, 1).vectorQuantized(16, 3)
                .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli());
        DiscreteCodes dc = DiscreteCodes.of(m);
        int[][] idx = dc.encodeIndices(x);
        float[][] ze = dc.encodeContinuous(x), rec = m.reconstruct(x);
        double[][] nll = m.featureNegLogLikelihood(x, m.encode(x));
        for (int from = 0; from < n; from += 100) {
            float[][] part = java.util.Arrays.copyOfRange(x, from, Math.min(n, from + 100));
            int to = from + part.length;
            assertArrayEquals(dc.encodeIndices(part), java.util.Arrays.copyOfRange(idx, from, to), "indices of rows " + from);
            assertArrayEquals(dc.encodeContinuous(part), java.util.Arrays.copyOfRange(ze, from, to), "z_e of rows " + from);
            assertArrayEquals(m.reconstruct(part), java.util.Arrays.copyOfRange(rec, from, to), "reconstruction of rows " + from);
            assertArrayEquals(m.featureNegLogLikelihood(part, m.encode(part)), java.util.Arrays.copyOfRange(nll, from, to), "-log p of rows " + from);
        }
    }

    @Test
    void indicesRoundTripThroughTheModelsOwnEncodeAndDecode() {
        Dataset data = FashionMnist.bundledTest().head(20);
        float[][] x = new float[20][];
        for (int i = 0; i < 20; i++) {
            x[i] = data.row(i);
        }
        for (ModelSpec spec : new ModelSpec[] {
                Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(8, 4, 2, 1).vectorQuantized(16, 3)
                        .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli(),
                Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(8, 4, 2, 1).vectorQuantized(16, 3).cosine()
                        .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli(),
                Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(8, 4, 2, 1).vectorQuantized(16, 6).codebookDim(2)
                        .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli(),
                Model.encoder(784).dense(32).relu().vectorQuantized(16, 6).codebookDim(3).decoder().dense(784).bernoulli(),
                Model.encoder(784).dense(32).relu().finiteScalar(8, 5, 5, 5).decoder().dense(784).bernoulli()}) {
            assertEquals(spec, ModelSpec.fromJson(spec.toJson()), "the JSON reads back");
            assertTrue(spec.summary().contains(String.format(java.util.Locale.ROOT, "total: %,d parameters",
                    Graph.build(spec).trainableCount())), spec.summary());
            Autoencoder m = model(spec);
            assertEquals(spec.latent() instanceof org.latent4j.dsl.LatentSpec.FiniteScalar ? "fsq" : "vq-vae", m.kind());
            DiscreteCodes dc = DiscreteCodes.of(m);
            int[][] idx = dc.encodeIndices(x);
            assertArrayEquals(m.encode(x), dc.codeVectors(idx), "index -> code vectors is encode");
            assertArrayEquals(m.reconstruct(x), dc.decodeIndices(idx), "decoding the indices is reconstruct");
            assertArrayEquals(m.encode(x), dc.quantize(dc.encodeContinuous(x)), "quantizing z_e is encode");
            float[][] path = dc.interpolate(x[0], x[1], 4);
            assertArrayEquals(m.reconstruct(new float[][] {x[0]})[0], path[0], 1e-6f);
            assertArrayEquals(m.reconstruct(new float[][] {x[1]})[0], path[3], 1e-6f);
            assertEquals(20L * dc.positions(), java.util.Arrays.stream(dc.usage(idx)).sum());
        }
        DiscreteCodes vq = DiscreteCodes.of(model(Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(8, 4, 2, 1).vectorQuantized(512, 3)
                .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli()));
        assertEquals(49, vq.positions());
        assertEquals(49 * 9, vq.bitsPerImage(), 1e-9);
        var e = assertThrows(IllegalArgumentException.class, () -> vq.codeVectors(new int[][] {new int[49 - 1]}));
        assertTrue(e.getMessage().contains("49 positions"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DiscreteCodes.of(model(Model.encoder(4).latent(2).decoder().dense(4).gaussian())));
        assertTrue(e.getMessage().contains("no discrete latent"), e.getMessage());
    }

    @Test
    void priorsAreDistributionsOverTheGridAndTheirSamplesFollowThem() {
        int positions = 3, codes = 3;
        int[][] train = {{0, 1, 2}, {0, 1, 1}, {2, 2, 2}, {0, 1, 2}, {1, 0, 0}};
        for (CodePrior.Kind kind : CodePrior.Kind.values()) {
            CodePrior prior = CodePrior.fit(kind, train, positions, codes);
            double total = 0;
            double[] p = new double[27];
            for (int i = 0; i < 27; i++) {
                int[] row = {i % 3, i / 3 % 3, i / 9};
                p[i] = Math.pow(2, -prior.bits(row));
                total += p[i];
            }
            assertEquals(1.0, total, 1e-12, kind + ": the probabilities of all 27 grids sum to 1");
            int n = 40_000;
            int[][] s = prior.sample(n, 9);
            assertArrayEquals(s[17], prior.sample(18, 9)[17], "the same seed gives the same draws");
            double[] freq = new double[27];
            for (int[] row : s) {
                freq[row[0] + 3 * row[1] + 9 * row[2]] += 1.0 / n;
            }
            for (int i = 0; i < 27; i++) {
                assertEquals(p[i], freq[i], 4 * Math.sqrt(p[i] * (1 - p[i]) / n) + 1e-4, kind + ": grid " + i);
            }
        }
        // the Markov prior knows that 1 follows 0 in the training rows; the categorical one only the positions
        CodePrior markov = CodePrior.fit(CodePrior.Kind.MARKOV, train, positions, codes);
        assertTrue(markov.bits(new int[] {0, 1, 2}) < markov.bits(new int[] {0, 2, 1}));
    }
}
