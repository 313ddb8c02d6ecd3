package org.latent4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.latent4j.data.Csv;
import org.latent4j.data.DataFiles;
import org.latent4j.data.Dataset;
import org.latent4j.io.Pictures;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The commands that use a trained model file: eval, encode, reconstruct, sample. */
final class UseCommands {
    private UseCommands() {}

    /** --model and --data, shared by eval, encode and reconstruct. */
    static final class ModelAndData {
        @Option(names = "--model", required = true, paramLabel = "FILE", description = "A .safetensors model file.")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "PATH",
                description = ".csv, .npy, IDX images, or a Fashion-MNIST folder (its test set).")
        Path data;

        Autoencoder load() throws java.io.IOException {
            return Autoencoder.load(model);
        }

        Dataset rows(Autoencoder m) throws java.io.IOException {
            return UseCommands.rows(data, m);
        }
    }

    static Dataset rows(Path data, Autoencoder m) throws java.io.IOException {
        Dataset d = DataFiles.read(data, true);
        if (d.features() != m.inputDim()) {
            throw new IllegalArgumentException(data + " has " + d.features() + " features per row but the model takes " + m.inputDim());
        }
        return d;
    }

    static float[][] asRows(Dataset d) {
        float[][] x = new float[d.rows()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    static void maybePicture(Path out, float[][] images) throws java.io.IOException {
        if (images.length > 0 && images[0].length == 784) {
            Path png = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
            float[][] first = java.util.Arrays.copyOf(images, Math.min(images.length, 64));
            Pictures.imageGrid(png, first, 8, 28, 28, 3);
            System.out.println("wrote " + png);
        }
    }

    @Command(name = "eval", description = "Mean -ELBO (reconstruction + KL) per row of a data set, one z sample per row.")
    static final class Eval implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--seed", defaultValue = "42")
        long seed;

        @Option(names = "--threads", defaultValue = "1")
        int threads;

        @Override
        public Integer call() throws Exception {
            Autoencoder m = io.load();
            Dataset d = io.rows(m);
            try (Parallelism par = Parallelism.of(threads)) {
                double[] r = Trainer.evaluate(m.graph(), m.parameters(), d, 256, seed, par);
                System.out.printf(Locale.ROOT, "{\"rows\":%d,\"neg_elbo\":%.4f,\"reconstruction\":%.4f,\"kl\":%.4f}%n", d.rows(), r[0] + r[1], r[0], r[1]);
            }
            return 0;
        }
    }

    @Command(name = "encode", description = "Latent means (and with --variance the log-variances) of each row, as CSV.")
    static final class Encode implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Option(names = "--variance", description = "Append the latent log-variances (VAE only).")
        boolean variance;

        @Override
        public Integer call() throws Exception {
            Autoencoder m = io.load();
            float[][] x = asRows(io.rows(m));
            float[][] z = m.encode(x);
            if (variance) {
                float[][] lv = m.encodeLogVariance(x);
                for (int i = 0; i < z.length; i++) {
                    float[] both = java.util.Arrays.copyOf(z[i], z[i].length * 2);
                    System.arraycopy(lv[i], 0, both, z[i].length, lv[i].length);
                    z[i] = both;
                }
            }
            Csv.write(out, z);
            System.out.println("wrote " + out + " (" + z.length + " rows x " + z[0].length + ")");
            return 0;
        }
    }

    @Command(name = "reconstruct", description = "Reconstructions (decoder means through the latent mean) of each row, as CSV (and PNG for 28x28 images).")
    static final class Reconstruct implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            Autoencoder m = io.load();
            float[][] r = m.reconstruct(asRows(io.rows(m)));
            Csv.write(out, r);
            System.out.println("wrote " + out + " (" + r.length + " rows)");
            maybePicture(out, r);
            return 0;
        }
    }

    @Command(name = "sample", description = "Decoded draws from the prior N(0, I), as CSV (and PNG for 28x28 images).")
    static final class Sample implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE")
        Path model;

        @Option(names = {"-n", "--count"}, defaultValue = "64")
        int count;

        @Option(names = "--seed", defaultValue = "42")
        long seed;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (count <= 0) {
                throw new IllegalArgumentException("--count must be positive, got " + count);
            }
            Autoencoder m = Autoencoder.load(model);
            float[][] s = m.sample(count, seed);
            Csv.write(out, s);
            System.out.println("wrote " + out + " (" + s.length + " samples)");
            maybePicture(out, s);
            return 0;
        }
    }
}
