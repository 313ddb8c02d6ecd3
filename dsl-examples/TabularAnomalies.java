// A worked example: anomalies in a table, end to end. Generates tables with a known structure
// (12 columns on very different scales driven by 3 hidden factors plus noise, an ID column and a
// 0/1 label column; 5 % of the rows are planted anomalies whose structure is broken: 3 of their
// cells are taken from other rows, so every cell is still an ordinary value for its column and
// only the relation between the columns gives them away), then runs train -> calibrate -> score
// with the same command lines `./latent4j` takes, printing each one before it runs, and the
// ROC-AUC that score reports on rows no step has seen. The model is a plain autoencoder (--kind ae):
// its squared reconstruction error is the score.
// Run: ./latent4j run dsl-examples/TabularAnomalies.java [FOLDER]   (default folder: tabular-example)
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.latent4j.cli.Main;

static final int COLUMNS = 12, FACTORS = 3;

/** Rows of the table: {@code n} rows, one in 20 an anomaly (label 1); the loadings are fixed, the draws come from {@code seed}. */
static String table(int n, long seed) {
    SplittableRandom fixed = new SplittableRandom(2024);   // the structure: the same for every table
    double[][] loading = new double[COLUMNS][FACTORS];
    double[] scale = new double[COLUMNS], offset = new double[COLUMNS];
    for (int j = 0; j < COLUMNS; j++) {
        for (int k = 0; k < FACTORS; k++) {
            loading[j][k] = fixed.nextGaussian();
        }
        scale[j] = Math.pow(10, fixed.nextInt(-2, 4));      // units from 0.01 to 1000
        offset[j] = scale[j] * fixed.nextInt(0, 20);
    }
    SplittableRandom r = new SplittableRandom(seed);
    double[][] x = new double[n][COLUMNS];
    for (double[] row : x) {
        double[] f = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
        for (int j = 0; j < COLUMNS; j++) {
            double v = 0.2 * r.nextGaussian();             // noise: 0.2 against a signal of sd about 1.7
            for (int k = 0; k < FACTORS; k++) {
                v += loading[j][k] * f[k];
            }
            row[j] = offset[j] + scale[j] * v;
        }
    }
    StringBuilder sb = new StringBuilder("id");
    for (int j = 1; j <= COLUMNS; j++) {
        sb.append(",c").append(j);
    }
    sb.append(",label\n");
    for (int i = 0; i < n; i++) {
        boolean anomaly = r.nextInt(20) == 0;
        double[] row = x[i].clone();
        if (anomaly) {   // three cells from three other rows: plausible values, broken structure
            for (int c = 0; c < 3; c++) {
                int j = r.nextInt(COLUMNS);
                row[j] = x[r.nextInt(n)][j];
            }
        }
        sb.append("row-").append(seed).append('-').append(i);
        for (double v : row) {
            sb.append(',').append(String.format(Locale.ROOT, "%.6g", v));
        }
        sb.append(',').append(anomaly ? 1 : 0).append('\n');
    }
    return sb.toString();
}

/** Prints the command as a shell line, then runs it as ./latent4j would. */
static void latent4j(String... args) {
    IO.println("$ ./latent4j " + String.join(" ", args));
    int code = Main.execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    if (code != 0) {
        throw new IllegalStateException("./latent4j " + args[0] + " failed with exit code " + code);
    }
}

void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "tabular-example");
    Files.createDirectories(dir);
    Path t = dir.resolve("t.csv"), held = dir.resolve("calibrate.csv"), fresh = dir.resolve("new.csv");
    Files.writeString(t, table(4000, 1));        // to train on (unlabelled use: the label column is left out)
    Files.writeString(held, table(1000, 2));     // labelled rows to set the threshold on
    Files.writeString(fresh, table(1000, 3));    // rows no step has seen, to score
    IO.println("wrote " + t + ", " + held + " and " + fresh + " (" + COLUMNS + " columns from " + FACTORS
            + " factors, about 5 % planted anomalies)");
    String run = dir.resolve("run").toString();
    latent4j("train", "--data", t.toString(), "--label-column", "label", "--id-column", "id", "--kind", "ae", "--latent", "3",
            "--epochs", "40", "--checkpoint-every", "0", "--out", run);
    latent4j("calibrate", "--model", run + "/model.safetensors", "--data", held.toString(), "--label-column", "label",
            "--id-column", "id", "--anomalous-classes", "1", "--rule", "best-f1", "--out", run + "/detector.safetensors");
    latent4j("score", "--model", run + "/detector.safetensors", "--data", fresh.toString(), "--label-column", "label",
            "--id-column", "id", "--anomalous-classes", "1", "--out", dir.resolve("scores.csv").toString());
}
