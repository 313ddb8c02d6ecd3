package org.latent4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "train", description = {
        "Train the default VAE with the W1 recipe (Adam 1e-3, batch 128, 10 epochs) on Fashion-MNIST",
        "(--data DIR for the full set) and write the run folder like demo."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    TrainRun run;

    @Override
    public Integer call() throws Exception {
        return run.run("train", System.out);
    }
}
