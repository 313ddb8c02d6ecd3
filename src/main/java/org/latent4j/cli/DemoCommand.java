package org.latent4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.latent4j.data.FashionMnist;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "demo", description = "Train the default VAE (784-512-256-32, Bernoulli pixels) on Fashion-MNIST and write a run"
        + " folder: model.safetensors, loss.png, reconstructions.png, samples.png, interpolation.png, latent.png,"
        + " metrics.json. The full set when Debian's dataset-fashion-mnist is installed (/usr/share/datasets/fashion-mnist;"
        + " " + DemoCommand.FULL_EPOCHS + " epochs), else the bundled slice (" + DemoCommand.SLICE_EPOCHS + " epochs); about"
        + " half a minute on 2 cores either way.")
final class DemoCommand implements Callable<Integer> {
    /** Epochs of the demo on the full set (60,000 images) and on the bundled slice (5,000). */
    static final int FULL_EPOCHS = 2, SLICE_EPOCHS = 20;

    @Mixin
    TrainRun run;

    @Override
    public Integer call() throws Exception {
        boolean full = run.data == null && hasFullSet(FashionMnist.DEBIAN_DIR);
        if (full) {
            run.data = FashionMnist.DEBIAN_DIR;
        }
        if (!given("--epochs")) {
            run.epochs = full ? FULL_EPOCHS : SLICE_EPOCHS;
        }
        if (run.data == null) {
            System.out.println("demo: the bundled Fashion-MNIST slice (install Debian's dataset-fashion-mnist for the full set,"
                    + " which the demo then uses)");
        } else if (full) {
            System.out.println("demo: the full Fashion-MNIST in " + FashionMnist.DEBIAN_DIR + " (--data DIR for another folder)");
        }
        return run.run("demo", System.out);
    }

    /** True when the folder holds the four Fashion-MNIST IDX files (gzipped or not). */
    static boolean hasFullSet(Path dir) {
        for (String stem : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"}) {
            if (!Files.isRegularFile(dir.resolve(stem + ".gz")) && !Files.isRegularFile(dir.resolve(stem))) {
                return false;
            }
        }
        return true;
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }
}
