// Test reconstruction error (squared error summed over the 784 pixels, mean per image) of PCA, PPCA,
// a linear autoencoder, a deep autoencoder and a VAE at the same latent sizes, on the bundled
// Fashion-MNIST slice. Writes a table (stdout and runs/compare-reconstruction.csv) and a plot
// (runs/compare-reconstruction.png). Run: ./latent4j run dsl-examples/CompareReconstruction.java [epochs]
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.io.Pictures;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.linear.Ppca;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

static double error(float[][] x, float[][] r) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
        for (int j = 0; j < x[i].length; j++) {
            double e = x[i][j] - r[i][j];
            s += e * e;
        }
    }
    return s / x.length;
}

void main(String[] args) throws Exception {
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("runs"));
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    Dataset train = FashionMnist.bundledTrain(), test = FashionMnist.bundledTest();
    float[][] x = new float[test.rows()][];
    for (int i = 0; i < x.length; i++) {
        x[i] = test.row(i);
    }
    int[] sizes = {2, 8, 32};
    String[] names = {"pca", "ppca", "linear ae", "deep ae", "vae"};
    double[][] err = new double[names.length][sizes.length];
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(epochs).withThreads(Runtime.getRuntime().availableProcessors())
            .withOptimizer(OptimizerSpec.adam(2e-3f));
    try (Parallelism par = Parallelism.of(Runtime.getRuntime().availableProcessors())) {
        for (int s = 0; s < sizes.length; s++) {
            int q = sizes[s];
            Pca pca = Pca.fit(train, q, par);
            err[0][s] = error(x, pca.reconstruct(x));
            Ppca ppca = Ppca.closedForm(pca);
            float[][] rp = new float[x.length][];
            for (int i = 0; i < x.length; i++) {
                rp[i] = ppca.decode(ppca.posterior(x[i]).mean());
            }
            err[1][s] = error(x, rp);
            ModelSpec lin = Model.encoder().latent(q).decoder().dense(784).gaussian();
            ModelSpec deep = Model.encoder().dense(256).relu().dense(64).relu().latent(q).decoder().dense(64).relu().dense(256).relu().dense(784).bernoulli();
            ModelSpec vae = Model.encoder().dense(256).relu().dense(64).relu().gaussianLatent(q).decoder().dense(64).relu().dense(256).relu().dense(784).bernoulli();
            err[2][s] = error(x, Trainer.fit(lin, train, null, cfg, TrainingListener.NONE).model().reconstruct(x));
            err[3][s] = error(x, Trainer.fit(deep, train, null, cfg, TrainingListener.NONE).model().reconstruct(x));
            err[4][s] = error(x, Trainer.fit(vae, train, null, cfg, TrainingListener.NONE).model().reconstruct(x));
            IO.println("latent size %d done".formatted(q));
        }
    }
    StringBuilder csv = new StringBuilder("model");
    for (int q : sizes) {
        csv.append(",latent_").append(q);
    }
    csv.append('\n');
    IO.println("%-10s %10s %10s %10s".formatted("model", "latent 2", "latent 8", "latent 32"));
    List<Pictures.Series> series = new ArrayList<>();
    for (int m = 0; m < names.length; m++) {
        IO.println("%-10s %10.2f %10.2f %10.2f".formatted(names[m], err[m][0], err[m][1], err[m][2]));
        csv.append(names[m]);
        for (double e : err[m]) {
            csv.append(',').append(e);
        }
        csv.append('\n');
        series.add(new Pictures.Series(names[m], err[m], Pictures.PALETTE[m]));
    }
    Files.writeString(Path.of("runs/compare-reconstruction.csv"), csv);
    Pictures.lineChart(Path.of("runs/compare-reconstruction.png"), "test squared error per image", "latent size",
            new String[] {"2", "8", "32"}, series);
    IO.println("wrote runs/compare-reconstruction.csv and runs/compare-reconstruction.png");
}
