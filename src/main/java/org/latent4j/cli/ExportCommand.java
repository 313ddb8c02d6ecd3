package org.latent4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.latent4j.io.SafeTensors;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;
import org.latent4j.onnx.OnnxExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code export}: a latent4j model file as three ONNX graphs (encoder, decoder, reconstruct). */
@Command(name = "export", description = "Write a model as ONNX (opset " + OnnxExport.OPSET + "): encoder.onnx (x -> mu, logvar or code), "
        + "decoder.onnx (z -> reconstruction, the likelihood's mean) and reconstruct.onnx (x -> reconstruction), with a dynamic batch "
        + "dimension and the model's input scaling folded in.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "A latent4j model file (.safetensors): an autoencoder, "
            + "VAE, PCA or PPCA.")
    Path model;

    @Option(names = "--onnx", required = true, paramLabel = "DIR", description = "The folder to write the three .onnx files into (made if missing).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        SafeTensors.Contents c = SafeTensors.read(model);
        if (c.metadata().containsKey("latent4j.anomaly.score")) {
            throw new IllegalArgumentException("--model " + model + " is an anomaly detector; export the model file it was calibrated from "
                    + "(the detector's own scaling and threshold are not part of the ONNX graphs)");
        }
        LatentModel m = Models.from(c, model);
        List<Path> files;
        try {
            files = OnnxExport.write(m, dir);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model " + model + ": " + e.getMessage(), e);
        }
        for (Path f : files) {
            System.out.println("wrote " + f + " (" + java.nio.file.Files.size(f) + " bytes)");
        }
        return 0;
    }
}
