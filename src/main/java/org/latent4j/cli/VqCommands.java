package org.latent4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.latent4j.data.Csv;
import org.latent4j.data.DataFiles;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Json;
import org.latent4j.dsl.PixelCnnSpec;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.CodePrior;
import org.latent4j.model.DiscreteCodes;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;
import org.latent4j.model.PixelCnnPrior;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The commands of models with a discrete latent: fit-prior (a PixelCNN over the code grid, saved in the model file) and decode (indices to images). */
final class VqCommands {
    private VqCommands() {}

    /** The PixelCNN prior a model file holds (null if none), checked against the model's code grid. */
    static PixelCnnPrior savedPrior(SafeTensors.Contents c, Path file, DiscreteCodes dc) throws IOException {
        PixelCnnPrior p = PixelCnnPrior.from(c, file);
        if (p != null && (p.spec().codes() != dc.codes() || p.spec().height() != dc.gridHeight() || p.spec().width() != dc.gridWidth())) {
            throw new IOException(file + ": its PixelCNN prior is over a " + p.spec().height() + "x" + p.spec().width() + " grid of "
                    + p.spec().codes() + " codes but the model's code grid is " + dc.gridHeight() + "x" + dc.gridWidth() + " of " + dc.codes());
        }
        return p;
    }

    /** Mean bits per row of the test codes under a categorical and a Markov prior fitted on the train codes, and under the PixelCNN (when given). */
    static Map<String, Double> priorBits(int[][] trainCodes, int[][] testCodes, DiscreteCodes dc, PixelCnnPrior pixel, Parallelism par) {
        Map<String, Double> bits = new LinkedHashMap<>();
        for (CodePrior.Kind k : CodePrior.Kind.values()) {
            CodePrior prior = CodePrior.fit(k, trainCodes, dc.positions(), dc.codes());
            double s = 0;
            for (int[] row : testCodes) {
                s += prior.bits(row);
            }
            bits.put(k.name().toLowerCase(Locale.ROOT), s / Math.max(1, testCodes.length));
        }
        if (pixel != null) {
            bits.put("pixelcnn", pixel.meanBits(testCodes, par));
        }
        return bits;
    }

    static String describe(Map<String, Double> bits) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Double> e : bits.entrySet()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()));
        }
        return sb.toString();
    }

    @Command(name = "fit-prior", description = "Trains a PixelCNN prior over a VQ-VAE or FSQ model's code grid on the codes of the"
            + " training rows and saves it in the model file (tensors prior.*), where sample finds it.")
    static final class FitPrior implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE", description = "A VQ-VAE or FSQ model file.")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "PATH", description = "The training rows whose codes the prior is"
                + " fitted on (.csv, .npy, IDX, or a Fashion-MNIST folder: its training set).")
        Path data;

        @Option(names = "--test", paramLabel = "PATH", description = "Held-out rows (a Fashion-MNIST folder: its test set): print the"
                + " bits per image of their codes under a categorical, a Markov and the PixelCNN prior (default: none).")
        Path test;

        @Option(names = "--out", paramLabel = "FILE", description = "Where to write the model with its prior (default: --model itself).")
        Path out;

        @Option(names = "--rows", paramLabel = "N", description = "Fit on the first N training rows (default: all).")
        Integer rows;

        @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
        int epochs;

        @Option(names = "--batch", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--learning-rate", defaultValue = "0.001", description = "Adam's learning rate (default: ${DEFAULT-VALUE}).")
        float learningRate;

        @Option(names = "--channels", defaultValue = "64", description = "Channels of the masked convolutions (default: ${DEFAULT-VALUE}).")
        int channels;

        @Option(names = "--embedding", defaultValue = "64", description = "Channels of the code embedding (default: ${DEFAULT-VALUE}).")
        int embedding;

        @Option(names = "--blocks", defaultValue = "2", description = "Residual blocks of type-B masked 3x3 convolutions (default: ${DEFAULT-VALUE}).")
        int blocks;

        @Option(names = "--kernel", paramLabel = "K", description = "The type-A first convolution's kernel, odd (default: 7, or 5 / 3 on smaller grids).")
        Integer kernel;

        @Mixin
        SharedOptions.Seed seed;

        @Mixin
        SharedOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            SafeTensors.Contents c = SafeTensors.read(model);
            LatentModel m = Models.from(c, model);
            DiscreteCodes dc = DiscreteCodes.of(m);
            Dataset train = UseCommands.checkWidth(data, DataFiles.read(data, false), m, null);
            int n = rows == null ? train.rows() : rows;
            if (n <= 0 || n > train.rows()) {
                throw new IllegalArgumentException("--rows " + n + ": " + data + " has " + train.rows() + " rows");
            }
            PixelCnnSpec d = PixelCnnSpec.forGrid(dc.codes(), dc.gridHeight(), dc.gridWidth());
            PixelCnnSpec spec = new PixelCnnSpec(dc.codes(), dc.gridHeight(), dc.gridWidth(), embedding, channels, kernel == null ? d.kernel() : kernel,
                    blocks);
            org.latent4j.train.PixelCnnTrainer.FitConfig cfg = new org.latent4j.train.PixelCnnTrainer.FitConfig(epochs, batch, learningRate, seed.seed);
            int[][] codes = dc.encodeIndices(VqRun.rows(train, n));
            System.out.printf(Locale.ROOT, "PixelCNN prior over %dx%d codes of %d: %s; %d training grids, %d epochs%n", spec.height(), spec.width(),
                    spec.codes(), spec.toJson(), n, epochs);
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("rows", n);
            figures.put("epochs", epochs);
            figures.put("batch", batch);
            figures.put("learning_rate", (double) learningRate);
            figures.put("seed", seed.seed);
            long t0 = System.nanoTime();
            try (Parallelism par = Parallelism.of(threads.resolve())) {
                PixelCnnPrior prior = org.latent4j.train.PixelCnnTrainer.fit(codes, spec, cfg, par, System.out::println);
                figures.put("seconds", (System.nanoTime() - t0) / 1e9);
                figures.put("train_bits_per_image", prior.meanBits(codes, par));
                if (test != null) {
                    Dataset t = UseCommands.checkWidth(test, DataFiles.read(test, true), m, null);
                    Map<String, Double> bits = priorBits(codes, dc.encodeIndices(UseCommands.asRows(t)), dc, prior, par);
                    figures.put("test_rows", t.rows());
                    figures.put("test_prior_bits", bits);
                    System.out.printf(Locale.ROOT, "test bits per image (%d rows, indices at a fixed length %.1f): %s%n", t.rows(),
                            dc.bitsPerImage(), describe(bits));
                }
                Path target = out == null ? model : out;
                prior.writeInto(c, target, Map.of(PixelCnnPrior.TRAINING_KEY, Json.write(figures)));
                System.out.println("wrote " + target + " (the model with its PixelCNN prior, " + prior.graph().trainableCount() + " parameters)");
            }
            return 0;
        }
    }

    @Command(name = "decode", description = "Decodes code indices (a CSV as encode --indices writes: one row per image, one index per"
            + " grid position in raster order) of a VQ-VAE or FSQ model to images, as CSV (and PNG for one-channel images).")
    static final class Decode implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE")
        Path model;

        @Option(names = "--indices", required = true, paramLabel = "FILE.csv")
        Path indices;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            LatentModel m = Models.load(model);
            DiscreteCodes dc = DiscreteCodes.of(m);
            int[][] idx = readIndices(indices, dc.positions(), dc.codes());
            float[][] images = dc.decodeIndices(idx);
            Csv.write(out, images);
            System.out.println("wrote " + out + " (" + images.length + " images decoded from " + indices + ")");
            UseCommands.maybePicture(out, images, UseCommands.pictureShape(m, null));
            return 0;
        }
    }

    /** An indices CSV: one row per line, {@code positions} whole numbers in 0..codes-1 each; errors name the line and column. */
    static int[][] readIndices(Path file, int positions, int codes) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
        java.util.ArrayList<int[]> out = new java.util.ArrayList<>();
        for (int l = 0; l < lines.size(); l++) {
            String line = lines.get(l).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (cells.length != positions) {
                throw new IOException(file + ": line " + (l + 1) + " has " + cells.length + " indices but the model's code grid has " + positions
                        + " positions");
            }
            int[] row = new int[positions];
            for (int p = 0; p < positions; p++) {
                String cell = cells[p].strip();
                double v;
                try {
                    v = Double.parseDouble(cell);
                } catch (NumberFormatException e) {
                    v = Double.NaN;
                }
                if (!(v >= 0 && v <= codes - 1) || v != Math.rint(v)) {
                    throw new IOException(file + ": line " + (l + 1) + ", column " + (p + 1) + ": '" + (cell.length() > 20 ? cell.substring(0, 20) + "..." : cell)
                            + "' is not a code index (a whole number in 0.." + (codes - 1) + ")");
                }
                row[p] = (int) v;
            }
            out.add(row);
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no rows of indices");
        }
        return out.toArray(new int[0][]);
    }
}
