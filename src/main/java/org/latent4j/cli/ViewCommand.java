package org.latent4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "view", description = "Look at a model in the browser: a local page (no internet needed) served until Ctrl-C. "
        + "view RUN_DIR: a training run's loss terms per epoch as curves, the KL per latent dimension and the active units, "
        + "reconstructions of a few held-out rows; it follows a run while it trains (train --view opens it beside training). "
        + "view --model FILE [--data PATH]: the latent explorer: the data's codes on a 2-D map coloured by label (or, for a "
        + "detector file, by anomaly score with the threshold as a slider), a click or drag decodes that point of the map in "
        + "the JVM, shift-click a second point for the interpolation strip.")
final class ViewCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "RUN_DIR", description = "A run folder written by train or demo.")
    Path run;

    @Option(names = "--model", paramLabel = "FILE", description = "Explore this model file's latent space instead "
            + "(an autoencoder, VAE, PCA or PPCA; a detector file from calibrate adds scores). Default: none (RUN_DIR).")
    Path model;

    @Option(names = "--data", paramLabel = "PATH", description = "With --model: the rows to map (.csv, .npy, IDX, or a "
            + "Fashion-MNIST folder: its test set), in the data's own units. With RUN_DIR: the data the run trained on, for "
            + "the reconstructions (default: the one metrics.json names, else the bundled slice).")
    Path data;

    @Mixin
    SharedOptions.Columns columns;

    @Option(names = "--labels", paramLabel = "PATH", description = "With --model: each row's class, from an IDX label file or a "
            + "CSV of one integer per row, to colour the map by (default: the data's own labels, if any).")
    Path labels;

    @Option(names = "--rows", paramLabel = "N", defaultValue = "5000", description = "With --model: map at most the first N rows "
            + "(default: ${DEFAULT-VALUE}).")
    int maxRows;

    @Mixin
    ViewCommand.Address address;

    /** --host and --port, shared with train --view. */
    static final class Address {
        @Option(names = "--port", paramLabel = "N", defaultValue = "0", description = "Port to serve on (default: 0, a free one; "
                + "the address is printed).")
        int port;

        @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "Address to listen on "
                + "(default: ${DEFAULT-VALUE}, this machine only; another address lets other machines read the page).")
        String host;
    }

    @Override
    public Integer call() throws Exception {
        if ((run == null) == (model == null)) {
            throw new IllegalArgumentException("view: give a run folder (view RUN_DIR) or a model (view --model FILE), one of the two");
        }
        ViewServer server = model != null ? explorer(model, data, columns, labels, maxRows, address.host, address.port)
                : runPage(run, data, columns, null, address.host, address.port);
        serveUntilStopped(server, System.out);
        return 0;
    }

    /** Prints where the page is and serves until the process ends (Ctrl-C). */
    static void serveUntilStopped(ViewServer server, PrintStream out) throws InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        out.println("view: serving " + server.address() + " (Ctrl-C to stop)");
        out.flush();
        new java.util.concurrent.CountDownLatch(1).await();
    }

    /** The run page for a run folder (which must exist unless {@code mayNotExistYet}). */
    static ViewServer runPage(Path dir, Path data, SharedOptions.Columns columns, Integer plannedEpochs, String host, int port)
            throws IOException {
        if (plannedEpochs == null && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("view " + dir + ": no such run folder");
        }
        RunView view = new RunView(dir, data, columns, plannedEpochs);
        return new ViewServer(host, port, "run.html", Map.of(
                "/api/run", r -> view.state(),
                "/api/reconstructions", r -> view.reconstructions()), Map.of());
    }

    /** The latent explorer for a model file and optional data. */
    static ViewServer explorer(Path modelFile, Path data, SharedOptions.Columns columns, Path labelFile, int maxRows, String host,
                               int port) throws IOException {
        if (!Files.isRegularFile(modelFile)) {
            throw new IllegalArgumentException("--model " + modelFile + ": no such file");
        }
        Dataset d = null;
        String[] featureNames = null, classes = null;
        int[] labels = null;
        if (data != null) {
            if (!Files.exists(data)) {
                throw new IllegalArgumentException("--data " + data + ": no such file or folder");
            }
            Csv.Table t = columns.read(data, true);
            d = t.data();
            featureNames = t.featureNames();
            labels = labelFile != null ? UseCommands.readLabels(labelFile, d.rows()) : d.labels();
            if (Files.isDirectory(data) && d.features() == 784) {
                classes = FashionMnist.CLASSES;
            }
        } else if (labelFile != null) {
            throw new IllegalArgumentException("--labels needs --data (the rows they label)");
        }
        return explorer(LatentView.open(modelFile, d, labels, classes, featureNames, maxRows), host, port);
    }

    /** The explorer's server for a view. */
    static ViewServer explorer(LatentView view, String host, int port) throws IOException {
        return new ViewServer(host, port, "explorer.html", Map.of(
                "/api/model", r -> view.info(),
                "/api/row", r -> {
                    if (view.rowCount() == 0) {
                        throw new ViewServer.HttpError(404, "no data rows (view --model FILE --data PATH maps some)");
                    }
                    return view.row(r.intParam("i", 0, view.rowCount() - 1));
                }), Map.of(
                "/api/decode", r -> view.decode(r.jsonBody()),
                "/api/interpolate", r -> view.interpolate(r.jsonBody())));
    }
}
