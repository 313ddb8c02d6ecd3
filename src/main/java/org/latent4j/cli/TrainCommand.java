package org.latent4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "train", description = "Train a model and write a run folder like demo (model.safetensors, loss.png, latent.png, "
        + "metrics.json, and for 28x28 images the reconstructions, samples and interpolations). On your own data: --data "
        + "FILE (.csv, .npy, IDX), the model from --layers, --latent, --kind, --likelihood or --spec, the input --scale fitted "
        + "on the training rows. Without --data: the default VAE with the W1 recipe (Adam 1e-3, batch 128, 10 epochs) on "
        + "the bundled Fashion-MNIST slice (--data DIR for the full set).")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    TrainRun run;

    @Override
    public Integer call() throws Exception {
        return run.run("train", System.out);
    }
}
