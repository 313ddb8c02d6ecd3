package org.latent4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.data.Idx;
import org.latent4j.dsl.Json;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;
import org.latent4j.model.Probe;
import org.latent4j.model.Scaling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code probe}: a downstream-task check of a model's representation. The labelled rows are split
 * (seeded); a logistic regression and a k-NN classifier are trained on the training part's codes,
 * raw features and PCA codes of the latent's size, and scored on the test part; k-means clusters
 * of each are scored against the labels by the adjusted Rand index.
 */
@Command(name = "probe", description = "Checks a representation on a downstream task: splits the labelled rows (seeded),"
        + " trains a softmax logistic regression (L2, L-BFGS) and a k-nearest-neighbour classifier on the model's codes"
        + " (latent means), on the raw features and on PCA codes of the latent's size (PCA fitted on the training part),"
        + " and reports test accuracy and macro-F1 of each; and k-means (k = the number of classes) of each with its"
        + " adjusted Rand index against the labels. JSON lines, then a table.")
final class ProbeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "A .safetensors model file.")
    Path model;

    @Option(names = "--data", paramLabel = "PATH",
            description = "Labelled rows, in the data's own units: a .csv with --label-column, an IDX image file (its labels"
                    + " from the IDX label file beside it, e.g. t10k-labels-idx1-ubyte.gz, or --labels), a .npy with --labels,"
                    + " or a Fashion-MNIST folder (its test set). Default: the bundled Fashion-MNIST test slice (1000 images).")
    Path data;

    @Mixin
    SharedOptions.Columns columns;

    @Option(names = "--labels", paramLabel = "PATH", description = "Each row's class, from an IDX label file or a CSV of one"
            + " integer per row (default: the data's own labels).")
    Path labels;

    @Option(names = "--test-fraction", paramLabel = "FRACTION", defaultValue = "0.3",
            description = "Fraction of the rows held out to score on, picked at random by --seed (default: ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(names = "--k", paramLabel = "K", defaultValue = "5",
            description = "Neighbours the k-NN classifier asks (Euclidean; a tie in votes goes to the smaller label) (default:"
                    + " ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--l2", paramLabel = "WEIGHT", defaultValue = "1e-3",
            description = "L2 weight of the logistic regression, on standardized features (default: ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "300",
            description = "Most L-BFGS iterations of the logistic regression (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--json", description = "JSON lines only (no table).")
    boolean json;

    @Mixin
    SharedOptions.Seed seed;

    @Mixin
    SharedOptions.Threads threads;

    /** k-means: Lloyd steps per run at most, and k-means++ restarts. */
    static final int KMEANS_ITERATIONS = 100, KMEANS_RESTARTS = 4;

    /** One representation's figures. */
    record Row(String name, int dims, double lrAccuracy, double lrF1, double knnAccuracy, double knnF1, double ari) {}

    @Override
    public Integer call() throws Exception {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("--test-fraction " + testFraction + ": the fraction held out must be above 0 and below 1");
        }
        if (k <= 0) {
            throw new IllegalArgumentException("--k must be positive, got " + k);
        }
        if (iterations <= 0) {
            throw new IllegalArgumentException("--iterations must be positive, got " + iterations);
        }
        if (!(l2 >= 0) || Double.isInfinite(l2)) {
            throw new IllegalArgumentException("--l2 must be 0 or more, got " + l2);
        }
        int t = threads.resolve();
        LatentModel m = Models.load(model);
        if (m instanceof Autoencoder ae && ae.spec().isConditional()) {
            throw new IllegalArgumentException(model + " is a conditional model: its codes are computed given the class, so a"
                    + " probe of them would be handed the labels; probe a model without conditions");
        }
        Dataset d = read();
        String where = data == null ? d.source() : data.toString();
        UseCommands.checkWidth(data == null ? Path.of(where) : data, d, m, columns);
        // Labels as class indices 0 .. C-1, in the order of the labels' values (ties go to the smaller label).
        TreeSet<Integer> distinct = new TreeSet<>();
        for (int l : d.labels()) {
            distinct.add(l);
        }
        if (distinct.size() < 2) {
            throw new IllegalArgumentException(where + ": every row has the label " + distinct.first()
                    + "; a probe needs at least 2 classes");
        }
        int[] values = distinct.stream().mapToInt(Integer::intValue).toArray();
        int[] index = new int[d.rows()];
        for (int r = 0; r < index.length; r++) {
            index[r] = java.util.Arrays.binarySearch(values, d.labels()[r]);
        }
        int classes = values.length;
        Dataset indexed = new Dataset(d.x(), d.rows(), d.features(), index, d.source());
        Dataset.Split split;
        try {
            split = indexed.split(testFraction, seed.seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--test-fraction " + testFraction + ": " + e.getMessage().replace("for validation", "to test on"), e);
        }
        Dataset train = split.train(), test = split.validation();
        if (k > train.rows()) {
            throw new IllegalArgumentException("--k " + k + ": the training part has only " + train.rows() + " rows");
        }
        int[] yTrain = train.labels(), yTest = test.labels();
        PrintStream log = System.err;
        long t0 = System.nanoTime();
        log.printf(Locale.ROOT, "probe: %s on %s: %d rows, %d classes; %d to train on, %d to test on (--test-fraction %s, --seed %d)%n",
                model, where, d.rows(), classes, train.rows(), test.rows(), testFraction, seed.seed);
        float[][] xTrain = UseCommands.asRows(train), xTest = UseCommands.asRows(test), xAll = UseCommands.asRows(indexed);
        // Raw features as the model sees them: scaled by the model's own input scaling, if it has one.
        Scaling s = m instanceof Autoencoder ae ? ae.inputScaling() : Scaling.none();
        String rawName = s.isNone() ? "raw features" : "raw features (" + s.kind() + " scaled, as the model takes them)";
        List<Row> rows = new ArrayList<>();
        List<Map<String, Object>> lines = new ArrayList<>();
        try (Parallelism par = Parallelism.of(t)) {
            float[][] cTrain = m.encode(xTrain), cTest = m.encode(xTest), cAll = m.encode(xAll);
            log.printf(Locale.ROOT, "probe: encoded %d rows, %.1f s%n", d.rows(), seconds(t0));
            rows.add(evaluate("codes", "the " + m.kind() + "'s codes (latent means, " + m.latentDim() + " dims)", cTrain, yTrain, cTest, yTest, cAll, index, classes, par, log,
                    lines, t0));
            float[][] rTrain = s.apply(xTrain), rTest = s.apply(xTest), rAll = s.apply(xAll);
            rows.add(evaluate("raw", rawName, rTrain, yTrain, rTest, yTest, rAll, index, classes, par, log, lines, t0));
            int q = Math.min(m.latentDim(), d.features());
            float[] flat = new float[rTrain.length * d.features()];
            for (int r = 0; r < rTrain.length; r++) {
                System.arraycopy(rTrain[r], 0, flat, r * d.features(), d.features());
            }
            Pca pca = Pca.fit(new Dataset(flat, rTrain.length, d.features(), null, train.source()), q, par);
            log.printf(Locale.ROOT, "probe: PCA with %d components fitted on the training part, %.1f s%n", q, seconds(t0));
            rows.add(evaluate("pca", "PCA codes (" + q + " components of the " + (s.isNone() ? "raw" : "scaled") + " features)",
                    pca.transform(rTrain, false), yTrain, pca.transform(rTest, false), yTest, pca.transform(rAll, false), index,
                    classes, par, log, lines, t0));
        }
        int[] testCounts = new int[classes];
        for (int y : yTest) {
            testCounts[y]++;
        }
        int[] trainCounts = new int[classes];
        for (int y : yTrain) {
            trainCounts[y]++;
        }
        int majority = 0;
        for (int c = 1; c < classes; c++) {
            if (trainCounts[c] > trainCounts[majority]) {
                majority = c;
            }
        }
        double chance = (double) testCounts[majority] / yTest.length;
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", model.toString());
        summary.put("data", where);
        summary.put("rows", d.rows());
        summary.put("train_rows", train.rows());
        summary.put("test_rows", test.rows());
        summary.put("classes", classes);
        summary.put("majority_class_accuracy", chance);
        summary.put("test_fraction", testFraction);
        summary.put("seed", seed.seed);
        summary.put("k", k);
        summary.put("l2", l2);
        summary.put("seconds", seconds(t0));
        PrintStream o = System.out;
        o.println(Json.write(summary));
        for (Map<String, Object> line : lines) {
            o.println(Json.write(line));
        }
        if (!json) {
            o.println();
            o.printf(Locale.ROOT, "%d train and %d test rows, %d classes; always answering the training part's most common class"
                    + " scores %.1f %% on the test rows%n", train.rows(), test.rows(), classes, 100 * chance);
            o.printf(Locale.ROOT, "%-14s %5s  %21s  %21s  %11s%n", "", "", "logistic regression", k + "-NN", "k-means");
            o.printf(Locale.ROOT, "%-14s %5s  %10s %10s  %10s %10s  %11s%n", "representation", "dims", "accuracy", "macro-F1",
                    "accuracy", "macro-F1", "ARI");
            for (Row r : rows) {
                String shown = switch (r.name()) {
                    case "raw" -> "raw features";
                    case "pca" -> "PCA codes";
                    default -> r.name();
                };
                o.printf(Locale.ROOT, "%-14s %5d  %8.1f %% %10.3f  %8.1f %% %10.3f  %11.3f%n", shown, r.dims(),
                        100 * r.lrAccuracy(), r.lrF1(), 100 * r.knnAccuracy(), r.knnF1(), r.ari());
            }
        }
        return 0;
    }

    private Row evaluate(String name, String description, float[][] xTrain, int[] yTrain, float[][] xTest, int[] yTest,
                         float[][] xAll, int[] yAll, int classes, Parallelism par, PrintStream log,
                         List<Map<String, Object>> lines, long t0) {
        int dims = xTrain[0].length;
        String shown = name.equals("raw") ? "raw features" : name.equals("pca") ? "PCA codes" : name;
        Probe.LogisticRegression lr = Probe.LogisticRegression.fit(xTrain, yTrain, classes, l2, iterations, par);
        int[] p = lr.predict(xTest);
        double lrAcc = Probe.accuracy(yTest, p), lrF1 = Probe.macroF1(yTest, p);
        log.printf(Locale.ROOT, "probe: logistic regression on the %s (%d dims): %d L-BFGS iterations, %.1f s%n", shown, dims,
                lr.iterations(), seconds(t0));
        int[] q = Probe.nearestNeighbours(xTrain, yTrain, xTest, k, par);
        double knnAcc = Probe.accuracy(yTest, q), knnF1 = Probe.macroF1(yTest, q);
        log.printf(Locale.ROOT, "probe: %d-NN on the %s: %d x %d distances, %.1f s%n", k, shown, xTest.length, xTrain.length,
                seconds(t0));
        Probe.Clustering km = Probe.kMeans(xAll, classes, KMEANS_ITERATIONS, KMEANS_RESTARTS, seed.seed);
        double ari = Probe.adjustedRandIndex(yAll, km.assignment());
        log.printf(Locale.ROOT, "probe: k-means (k = %d) on the %s of all %d rows, %.1f s%n", classes, shown, xAll.length,
                seconds(t0));
        lines.add(line(name, description, dims, "logistic_regression", lrAcc, lrF1, Map.of("l2", l2, "iterations", lr.iterations())));
        lines.add(line(name, description, dims, "knn", knnAcc, knnF1, Map.of("k", k)));
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("representation", name);
        c.put("description", description);
        c.put("dims", dims);
        c.put("clustering", "kmeans");
        c.put("clusters", classes);
        c.put("rows", xAll.length);
        c.put("adjusted_rand_index", ari);
        c.put("inertia", km.inertia());
        lines.add(c);
        return new Row(name, dims, lrAcc, lrF1, knnAcc, knnF1, ari);
    }

    private static Map<String, Object> line(String name, String description, int dims, String classifier, double acc, double f1,
                                            Map<String, Object> settings) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("representation", name);
        m.put("description", description);
        m.put("dims", dims);
        m.put("classifier", classifier);
        m.putAll(new java.util.TreeMap<>(settings));
        m.put("test_accuracy", acc);
        m.put("test_macro_f1", f1);
        return m;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The rows with their labels: the data's own, --labels, or the IDX label file beside an IDX image file. */
    private Dataset read() throws IOException {
        if (data == null) {
            if (columns.label != null || columns.id != null) {
                throw new IllegalArgumentException((columns.label != null ? "--label-column" : "--id-column")
                        + " picks a column of a CSV file; give --data FILE.csv");
            }
            Dataset b = FashionMnist.bundledTest();
            return labels == null ? b : withLabels(b, UseCommands.readLabels(labels, b.rows()));
        }
        Dataset d = columns.read(data, true).data();
        if (labels != null) {
            if (columns.label != null) {
                throw new IllegalArgumentException("--labels and --label-column: give one");
            }
            return withLabels(d, UseCommands.readLabels(labels, d.rows()));
        }
        if (d.labels() != null) {
            return d;
        }
        String name = data.getFileName() == null ? "" : data.getFileName().toString();
        if (name.contains("images-idx3-ubyte")) {
            String stem = name.replace("images-idx3-ubyte", "labels-idx1-ubyte").replaceFirst("\\.gz$", "");
            for (String candidate : new String[] {stem + ".gz", stem}) {
                Path beside = data.resolveSibling(candidate);
                if (Files.isRegularFile(beside)) {
                    int[] l = Idx.readLabels(beside);
                    if (l.length != d.rows()) {
                        throw new IllegalArgumentException(beside + " has " + l.length + " labels but " + data + " has " + d.rows()
                                + " images");
                    }
                    return withLabels(d, l);
                }
            }
            throw new IllegalArgumentException(data + " has no labels: no " + stem + "(.gz) beside it; give --labels FILE (an IDX"
                    + " label file or a CSV of one integer per row)");
        }
        throw new IllegalArgumentException(data + " has no labels: give " + (name.toLowerCase(Locale.ROOT).endsWith(".csv")
                ? "--label-column NAME|NUMBER (the column holding each row's class) or " : "") + "--labels FILE (an IDX label"
                + " file or a CSV of one integer per row)");
    }

    private static Dataset withLabels(Dataset d, int[] l) {
        return new Dataset(d.x(), d.rows(), d.features(), l, d.source());
    }
}
