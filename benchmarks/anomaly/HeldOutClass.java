// For each Fashion-MNIST class c: train a VAE on the bundled training slice without class c, then
// score the bundled test slice and report the ROC-AUC and PR-AUC of "class c is anomalous" for
// each score of AnomalyDetector. ./latent4j run benchmarks/anomaly/HeldOutClass.java [epochs]
import java.util.Locale;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Metrics;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

static Dataset without(Dataset d, int c) {
    int keep = 0;
    for (int l : d.labels()) {
        keep += l == c ? 0 : 1;
    }
    float[] x = new float[keep * d.features()];
    int[] labels = new int[keep];
    for (int r = 0, k = 0; r < d.rows(); r++) {
        if (d.labels()[r] != c) {
            System.arraycopy(d.x(), r * d.features(), x, k * d.features(), d.features());
            labels[k++] = d.labels()[r];
        }
    }
    return new Dataset(x, keep, d.features(), labels, d.source() + " without class " + c);
}

void main(String[] args) {
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    Dataset train = FashionMnist.bundledTrain(), test = FashionMnist.bundledTest();
    float[][] x = new float[test.rows()][];
    for (int i = 0; i < x.length; i++) {
        x[i] = test.row(i);
    }
    ModelSpec vae = Model.encoder().dense(256).relu().gaussianLatent(16).decoder().dense(256).relu().dense(784).bernoulli();
    System.out.println("| held-out class | MSE ROC-AUC | -ELBO ROC-AUC | IWAE (K=20) ROC-AUC | MSE PR-AUC | -ELBO PR-AUC |");
    System.out.println("| --- | --- | --- | --- | --- | --- |");
    for (int c = 0; c < 10; c++) {
        var model = Trainer.fit(vae, without(train, c), null, TrainingConfig.defaults().withEpochs(epochs).withBatchSize(64).withThreads(2),
                TrainingListener.NONE).model();
        boolean[] anomalous = new boolean[x.length];
        for (int i = 0; i < x.length; i++) {
            anomalous[i] = test.labels()[i] == c;
        }
        double[] mse = AnomalyDetector.of(model, AnomalyDetector.Score.MSE, 1, 1).score(x);
        double[] elbo = AnomalyDetector.of(model, AnomalyDetector.Score.NEG_ELBO, 5, 1).score(x);
        double[] iw = AnomalyDetector.of(model, AnomalyDetector.Score.IMPORTANCE_WEIGHTED, 20, 1).score(x);
        System.out.printf(Locale.ROOT, "| %d | %.3f | %.3f | %.3f | %.3f | %.3f |%n", c, Metrics.rocAuc(mse, anomalous), Metrics.rocAuc(elbo, anomalous),
                Metrics.rocAuc(iw, anomalous), Metrics.averagePrecision(mse, anomalous), Metrics.averagePrecision(elbo, anomalous));
    }
}
