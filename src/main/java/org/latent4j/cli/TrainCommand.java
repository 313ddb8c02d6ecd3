package org.latent4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", description = "Train a model and write a run folder like demo (model.safetensors, loss.png, latent.png, "
        + "metrics.json, and for 28x28 images the reconstructions, samples and interpolations). On your own data: --data "
        + "FILE (.csv, .npy, IDX), the model from --layers, --latent, --kind, --likelihood or --spec, the input --scale fitted "
        + "on the training rows. Without --data: the default VAE with the W1 recipe (Adam 1e-3, batch 128, 10 epochs) on "
        + "the bundled Fashion-MNIST slice (--data DIR for the full set).")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    TrainRun run;

    @Option(names = "--view", description = "Serve the run's page (see view RUN_DIR) on 127.0.0.1 while it trains: the curves and "
            + "reconstructions follow each epoch's checkpoint. Default: no page.")
    boolean view;

    @Option(names = "--view-port", paramLabel = "N", defaultValue = "0", description = "With --view: the port (default: 0, a free "
            + "one; the address is printed).")
    int viewPort;

    @Override
    public Integer call() throws Exception {
        if (!view) {
            return run.run("train", System.out);
        }
        // The page needs the folder before training names it: the same default name TrainRun would pick.
        if (run.out == null) {
            run.out = run.resume != null ? run.resume.toAbsolutePath().getParent() : Path.of("runs", "train-"
                    + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        try (ViewServer server = ViewCommand.runPage(run.out, run.data, run.columns, run.epochs, "127.0.0.1", viewPort)) {
            System.out.println("view: the run's page is at " + server.address() + (run.checkpointEvery == 0
                    ? " (with --checkpoint-every 0 it shows the run only when it has finished)" : ""));
            int code = run.run("train", System.out);
            java.io.Console console = System.console();
            if (code == 0 && console != null && console.isTerminal()) {
                System.out.println("view: training finished; the page stays at " + server.address() + " until you press Enter");
                console.readLine();
            }
            return code;
        }
    }
}
