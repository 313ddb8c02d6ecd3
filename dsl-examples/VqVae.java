// VQ-VAE (van den Oord et al. 2017) on Fashion-MNIST: strided convolutions and a residual block down
// to a 7x7 grid, each position's 64 values replaced by the nearest of 512 codes (moving-average
// codebook, dead codes re-seeded from the batch), transposed convolutions back up. Trains, prints the
// codebook's health per epoch, then fits priors over the code grid on the training codes (categorical
// per position, a Markov chain in raster order, and a masked-convolution PixelCNN), prints the bits
// per test image under each, and writes reconstructions, PixelCNN prior samples and the code usage
// histogram. The full set when Debian's dataset-fashion-mnist is installed, else the bundled slice.
// Run: ./latent4j run dsl-examples/VqVae.java [epochs] [prior epochs]
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.PixelCnnSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.dsl.Model;
import org.latent4j.io.Pictures;
import org.latent4j.model.CodePrior;
import org.latent4j.model.DiscreteCodes;
import org.latent4j.model.Metrics;
import org.latent4j.train.EpochStats;
import org.latent4j.train.PixelCnnTrainer;
import org.latent4j.train.QuantizerHealth;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

void main(String[] args) throws Exception {
    var spec = Model.encoder(1, 28, 28).conv2d(32, 4, 2, 1).relu().conv2d(64, 4, 2, 1).relu().residualBlock().relu()
            .vectorQuantized(512, 64)
            .decoder().residualBlock().relu().convTranspose2d(32, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
    IO.println(spec.summary());
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int priorEpochs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    boolean full = Files.isRegularFile(FashionMnist.DEBIAN_DIR.resolve("train-images-idx3-ubyte.gz"));
    var train = full ? FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, false) : FashionMnist.bundledTrain();
    var test = full ? FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, true) : FashionMnist.bundledTest();
    var config = TrainingConfig.defaults().withEpochs(epochs).withThreads(Runtime.getRuntime().availableProcessors());
    TrainingListener log = new TrainingListener() {
        @Override
        public void onEpoch(EpochStats s) {
            IO.println("epoch %d: train reconstruction %.2f nats + VQ losses %.2f, test reconstruction %.2f, %.0f img/s"
                    .formatted(s.epoch(), s.trainReconstruction(), s.trainPenalty(), s.validationReconstruction(), s.samplesPerSecond()));
        }

        @Override
        public void onQuantizerHealth(QuantizerHealth h) {
            IO.println("  " + h.line());
            if (h.warning() != null) {
                IO.println(h.warning());
            }
        }
    };
    var model = Trainer.fit(spec, train, test, config, log).model();
    model.save(Path.of("vq-vae.safetensors"));
    var codes = DiscreteCodes.of(model);
    float[][] testRows = new float[Math.min(10_000, test.rows())][];
    for (int i = 0; i < testRows.length; i++) {
        testRows[i] = test.row(i);
    }
    float[][] rec = model.reconstruct(testRows);
    IO.println("test MSE %.5f, PSNR %.2f dB, %d positions x log2(%d) = %.0f bits per image"
            .formatted(Metrics.mse(testRows, rec), Metrics.psnr(testRows, rec, 1.0), codes.positions(), codes.codes(), codes.bitsPerImage()));
    float[][] trainRows = new float[train.rows()][];
    for (int i = 0; i < trainRows.length; i++) {
        trainRows[i] = train.row(i);
    }
    int[][] trainCodes = codes.encodeIndices(trainRows), testCodes = codes.encodeIndices(testRows);
    for (CodePrior.Kind kind : CodePrior.Kind.values()) {
        var prior = CodePrior.fit(kind, trainCodes, codes.positions(), codes.codes());
        double bits = 0;
        for (int[] row : testCodes) {
            bits += prior.bits(row);
        }
        IO.println("%s prior: %.1f bits per test image".formatted(kind.name().toLowerCase(), bits / testCodes.length));
    }
    // The autoregressive prior: a PixelCNN over the 7x7 grid (type-A 7x7 masked convolution, two residual blocks of type-B 3x3).
    var pixelSpec = PixelCnnSpec.forGrid(codes.codes(), codes.gridHeight(), codes.gridWidth());
    int[][] sampled;
    try (Parallelism par = Parallelism.of(Runtime.getRuntime().availableProcessors())) {
        var pixel = PixelCnnTrainer.fit(trainCodes, pixelSpec, new PixelCnnTrainer.FitConfig(priorEpochs, 64, 1e-3f, 42), par,
                line -> IO.println("  PixelCNN " + line));
        IO.println("pixelcnn prior: %.1f bits per test image".formatted(pixel.meanBits(testCodes, par)));
        sampled = pixel.sample(32, 7, par);
    }
    float[][] grid = new float[32][];
    for (int i = 0; i < 16; i++) {
        grid[i] = testRows[i];
        grid[16 + i] = rec[i];
    }
    Pictures.imageGrid(Path.of("vq-vae-reconstructions.png"), grid, 16, 28, 28, 3);
    Pictures.imageGrid(Path.of("vq-vae-samples.png"), codes.decodeIndices(sampled), 8, 28, 28, 3);
    long[] usage = codes.usage(trainCodes);
    java.util.Arrays.sort(usage);
    double[] share = new double[usage.length];
    long total = java.util.Arrays.stream(usage).sum();
    for (int i = 0; i < usage.length; i++) {
        share[i] = 100.0 * usage[usage.length - 1 - i] / total;
    }
    Pictures.lineChart(Path.of("vq-vae-code-usage.png"), "code usage (% of positions per code)", "codes by rank (most used first)", null,
            List.of(new Pictures.Series("% of positions", share, Pictures.PALETTE[0])));
    IO.println("wrote vq-vae.safetensors, vq-vae-reconstructions.png (rows: input, reconstruction), vq-vae-samples.png (PixelCNN prior),"
            + " vq-vae-code-usage.png");
}
