package org.latent4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "info", description = "Print a model file's summary: layers, shapes, parameters.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "A .safetensors model file.")
    Path model;

    @Override
    public Integer call() throws Exception {
        LatentModel m = Models.load(model);
        System.out.println(model + ": " + switch (m.kind()) {
            case "vae" -> "VAE";
            case "pca" -> "PCA";
            case "ppca" -> "PPCA";
            case "vq-vae" -> "VQ-VAE";
            case "fsq" -> "autoencoder with a finite scalar quantized (FSQ) latent";
            default -> m.kind();
        } + ", " + m.inputDim() + " inputs, " + m.latentDim() + " latent dimensions");
        System.out.print(m.summary());
        return 0;
    }
}
