package org.latent4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.latent4j.data.DataFiles;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Json;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.linear.Ppca;
import org.latent4j.model.LinearModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pca} and {@code ppca}: fit on a data set and report the spectrum (JSON with --json). */
final class LinearCommands {
    private LinearCommands() {}

    static List<Object> list(double[] v) {
        List<Object> l = new ArrayList<>();
        for (double x : v) {
            l.add(x);
        }
        return l;
    }

    /** Reads the data; rows with NaN or infinity are an error, or left out and reported with --drop-non-finite. */
    static Dataset load(Path data, boolean test, boolean dropNonFinite, SharedOptions.Columns columns) throws java.io.IOException {
        Dataset d = DataFiles.readTable(data, test, dropNonFinite, columns.label, columns.id).data();
        if (d.droppedRows() > 0) {
            System.err.println("latent4j: dropped " + d.droppedRows() + " row(s) holding NaN or infinite values from " + data);
        }
        return d;
    }

    @Command(name = "pca", description = "Principal component analysis of a data set (.csv, .npy, IDX images or a "
            + "Fashion-MNIST folder: its training set).")
    static final class PcaCommand implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "PATH")
        Path data;

        @Option(names = {"-q", "--components"}, defaultValue = "32", description = "Components (default: ${DEFAULT-VALUE}).")
        int components;

        @picocli.CommandLine.Mixin
        SharedOptions.Threads threads;

        @Option(names = "--drop-non-finite", description = "Leave out (and report) rows holding NaN or infinite values; "
                + "by default they are an error.")
        boolean dropNonFinite;

        @picocli.CommandLine.Mixin
        SharedOptions.Columns columns;

        @Option(names = "--json", description = "One JSON object.")
        boolean json;

        @Option(names = "--out", paramLabel = "DIR", description = "Also write DIR/model.safetensors (usable by encode, "
                + "reconstruct, sample, score, info) and DIR/metrics.json"
                + " (default: print only).")
        Path out;

        @Override
        public Integer call() throws Exception {
            Dataset d = load(data, false, dropNonFinite, columns);
            try (Parallelism par = Parallelism.of(threads.resolve())) {
                long t0 = System.nanoTime();
                Pca pca;
                Heartbeat beat = Heartbeat.of(String.format(java.util.Locale.ROOT, "pca: fitting %,d x %,d rows", d.rows(), d.features()));
                try {
                    pca = Pca.fit(d, components, par);
                } finally {
                    beat.close();
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("rows", d.rows());
                m.put("features", d.features());
                m.put("components", components);
                m.put("explained_variance", list(pca.explainedVariance()));
                m.put("explained_variance_ratio", list(pca.explainedVarianceRatio()));
                m.put("fit_s", sec);
                print(m, json);
                write(out, LinearModel.of(pca), m, json);
            }
            return 0;
        }
    }

    @Command(name = "ppca", description = "Probabilistic PCA: closed form (default) or EM (--em) on a data set.")
    static final class PpcaCommand implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "PATH")
        Path data;

        @Option(names = {"-q", "--components"}, defaultValue = "32", description = "Components (default: ${DEFAULT-VALUE}).")
        int components;

        @Option(names = "--em", description = "Fit by EM instead of the closed form.")
        boolean em;

        @Option(names = "--tolerance", defaultValue = "1e-6", description = "EM: relative change of the log-likelihood to "
                + "stop at (default: ${DEFAULT-VALUE}).")
        double tolerance;

        @Option(names = "--max-iterations", defaultValue = "500", description = "EM: iterations at most (default: "
                + "${DEFAULT-VALUE}).")
        int maxIterations;

        @picocli.CommandLine.Mixin
        SharedOptions.Seed seed;

        @picocli.CommandLine.Mixin
        SharedOptions.Threads threads;

        @Option(names = "--drop-non-finite", description = "Leave out (and report) rows holding NaN or infinite values; "
                + "by default they are an error.")
        boolean dropNonFinite;

        @picocli.CommandLine.Mixin
        SharedOptions.Columns columns;

        @Option(names = "--json")
        boolean json;

        @Option(names = "--out", paramLabel = "DIR", description = "Also write DIR/model.safetensors (usable by encode, "
                + "reconstruct, sample, score, info) and DIR/metrics.json"
                + " (default: print only).")
        Path out;

        @Override
        public Integer call() throws Exception {
            Dataset d = load(data, false, dropNonFinite, columns);
            try (Parallelism par = Parallelism.of(threads.resolve())) {
                Map<String, Object> m = new LinkedHashMap<>();
                Ppca model;
                // fit_s: the closed form includes its PCA; EM is timed alone (the PCA beside it
                // only reports the explained variance).
                long t0 = System.nanoTime();
                Pca pca;
                Heartbeat beat = Heartbeat.of(String.format(java.util.Locale.ROOT, "ppca: fitting %,d x %,d rows", d.rows(), d.features()));
                try {
                    pca = Pca.fit(d, components, par);
                } finally {
                    beat.close();
                }
                if (em) {
                    t0 = System.nanoTime();
                    Ppca.EmResult r;
                    Heartbeat emBeat = Heartbeat.of(String.format(java.util.Locale.ROOT, "ppca: EM on %,d x %,d rows", d.rows(), d.features()));
                    try {
                        r = Ppca.fitEm(d, components, tolerance, maxIterations, seed.seed, par);
                    } finally {
                        emBeat.close();
                    }
                    model = r.model();
                    m.put("iterations", r.iterations());
                    m.put("converged", r.converged());
                } else {
                    model = Ppca.closedForm(pca);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                m.put("rows", d.rows());
                m.put("features", d.features());
                m.put("components", components);
                m.put("method", em ? "em" : "closed_form");
                m.put("explained_variance", list(pca.explainedVariance()));
                m.put("explained_variance_ratio", list(pca.explainedVarianceRatio()));
                m.put("noise_variance", model.noiseVariance());
                m.put("log_likelihood", model.logLikelihood(d));
                m.put("fit_s", sec);
                print(m, json);
                write(out, LinearModel.of(model), m, json);
            }
            return 0;
        }
    }

    /** With --out: the model file and metrics.json in the folder (made if missing). */
    static void write(Path out, LinearModel model, Map<String, Object> metrics, boolean json) throws java.io.IOException {
        if (out == null) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(out);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new java.io.IOException(out + ": exists and is not a folder", e);
        }
        model.save(out.resolve("model.safetensors"));
        org.latent4j.io.AtomicFiles.write(out.resolve("metrics.json"), tmp -> java.nio.file.Files.writeString(tmp, Json.write(metrics) + "\n"));
        if (!json) {
            System.out.println("wrote " + out + "/: model.safetensors, metrics.json");
        }
    }

    static void print(Map<String, Object> m, boolean json) {
        if (json) {
            System.out.println(Json.write(m));
            return;
        }
        for (Map.Entry<String, Object> e : m.entrySet()) {
            Object v = e.getValue();
            String s = v instanceof List<?> l && l.size() > 8
                    ? l.subList(0, 8).stream().map(x -> String.format(Locale.ROOT, "%.4g", (Double) x)).toList() + " ..."
                    : v instanceof Double dv ? String.format(Locale.ROOT, "%.6g", dv) : String.valueOf(v);
            System.out.printf(Locale.ROOT, "%-26s %s%n", e.getKey(), s);
        }
    }
}
