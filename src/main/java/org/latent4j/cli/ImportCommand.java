package org.latent4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code import}: a PyTorch state_dict (safetensors) and a spec become a latent4j model file. */
@Command(name = "import", description = "Turn a PyTorch model's weights (a state_dict saved by safetensors.torch.save_file; "
        + "F32, F16, BF16 or F64) and its latent4j spec into a latent4j model file. Every tensor is checked against the spec by "
        + "name, shape and dtype.")
final class ImportCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "The PyTorch state_dict (.safetensors).")
    Path weights;

    @Option(names = "--spec", required = true, paramLabel = "FILE.json", description = "The model spec (the format train --spec reads; "
            + "input_dim given), whose layers name the tensors as PyTorch's modules do (encoder.0.weight, fc_mu.bias, ...).")
    Path spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The latent4j model file to write (.safetensors).")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModelSpec s = TrainRun.readSpec(spec);
        if (s.inputDim() <= 0) {
            throw new IllegalArgumentException("--spec " + spec + ": give the input width (\"input_dim\"); an imported model has no data to infer it from");
        }
        Autoencoder m = Models.load(weights, s);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        m.save(out);
        System.out.println("wrote " + out + ": " + m.graph().params().size() + " tensors (" + m.graph().paramCount() + " floats) from "
                + weights + ", " + (m.spec().isVariational() ? "VAE" : "autoencoder") + ", " + m.inputDim() + " inputs, "
                + m.latentDim() + " latent dimensions");
        return 0;
    }
}
