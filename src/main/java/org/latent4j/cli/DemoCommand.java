package org.latent4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "demo", description = "Train the default VAE (784-512-256-32, Bernoulli pixels) on the bundled "
        + "Fashion-MNIST slice and write a run folder: model.safetensors, loss.png, reconstructions.png, samples.png, "
        + "metrics.json.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    TrainRun run;

    @Override
    public Integer call() throws Exception {
        if (run.epochs == 10 && !picocliSet()) {
            run.epochs = 5; // the demo's default: about half a minute on 2 cores
        }
        return run.run("demo", System.out);
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private boolean picocliSet() {
        return spec.commandLine().getParseResult().hasMatchedOption("--epochs");
    }
}
