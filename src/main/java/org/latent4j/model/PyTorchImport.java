package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.io.SafeTensors;

/**
 * A PyTorch state_dict (saved by {@code safetensors.torch.save_file}) as a latent4j model of a
 * given spec ({@link Models#load(Path, ModelSpec)}). The spec names every tensor it needs the way
 * the equivalent PyTorch modules do: {@code encoder.I.weight} / {@code .bias} for layer I of an
 * {@code nn.Sequential} encoder (a {@code Linear} (out, in), a {@code Conv2d} (out, in, k, k), a
 * {@code ConvTranspose2d} (in, out, k, k), a {@code BatchNorm1d/2d}'s weight, bias, running_mean
 * and running_var), {@code encoder.I.conv1.weight} ... of a residual block, {@code fc_mu} and
 * {@code fc_logvar} (a VAE's heads) or {@code latent} (an autoencoder's code layer),
 * {@code decoder.I...} and {@code decoder_logvar} (a learned Gaussian variance).
 */
final class PyTorchImport {
    private PyTorchImport() {}

    /** The first 12 names, then how many more. */
    private static String names(java.util.Collection<String> all) {
        List<String> l = new ArrayList<>(all);
        return l.size() <= 12 ? String.join(", ", l) : String.join(", ", l.subList(0, 12)) + " and " + (l.size() - 12) + " more";
    }

    static Autoencoder load(Path weights, ModelSpec spec) throws IOException {
        if (spec == null) {
            throw new IllegalArgumentException("give the model spec the weights belong to");
        }
        Graph g;
        try {
            g = Graph.build(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the model spec is not valid: " + String.valueOf(e.getMessage()).replaceFirst("^model spec: ", ""), e);
        }
        SafeTensors.Converted read = SafeTensors.readConverted(weights);
        Map<String, SafeTensors.Entry> tensors = read.contents().tensors();
        Map<String, ParamSpec> expected = g.params();
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>();
        for (ParamSpec p : expected.values()) {
            SafeTensors.Entry e = tensors.get(p.name());
            if (e == null) {
                SafeTensors.Other o = read.others().get(p.name());
                if (o != null) {
                    throw new IOException(weights + ": tensor " + p.name() + " has dtype " + o.dtype() + " but a model's tensors are"
                            + " floating-point (F32, F16, BF16 or F64)");
                }
                missing.add(p.name() + " " + Arrays.toString(p.shape()));
                continue;
            }
            if (!Arrays.equals(e.shape(), p.shape())) {
                throw new IOException(weights + ": tensor " + p.name() + " has shape " + Arrays.toString(e.shape()) + " but the spec needs "
                        + Arrays.toString(p.shape()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!expected.containsKey(name)) {
                extra.add(name + " " + Arrays.toString(tensors.get(name).shape()));
            }
        }
        for (SafeTensors.Other o : read.others().values()) {
            // PyTorch's batch normalization counts its training steps in an integer tensor no inference reads.
            boolean counter = o.name().endsWith(".num_batches_tracked") && o.dtype().matches("[IU](8|16|32|64)")
                    && expected.containsKey(o.name().substring(0, o.name().length() - "num_batches_tracked".length()) + "running_mean");
            if (!counter && !expected.containsKey(o.name())) {
                extra.add(o.name() + " " + Arrays.toString(o.shape()) + " " + o.dtype());
            }
        }
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new IOException(weights + ": the tensors do not match the spec:" + (missing.isEmpty() ? "" : " missing " + String.join(", ", missing))
                    + (missing.isEmpty() || extra.isEmpty() ? "" : ";") + (extra.isEmpty() ? "" : " not in the spec " + String.join(", ", extra))
                    + " (the spec needs " + expected.size() + " tensors named as PyTorch names its modules: " + names(expected.keySet()) + ")");
        }
        float[] params = new float[g.paramCount()];
        for (ParamSpec p : expected.values()) {
            SafeTensors.Entry e = tensors.get(p.name());
            boolean variance = p.name().endsWith(".running_var");
            for (int i = 0; i < p.size(); i++) {
                float v = e.data()[e.offset() + i];
                if (!Float.isFinite(v) || variance && v < 0f) {
                    throw new IOException(weights + ": tensor " + p.name() + " (" + read.dtypes().get(p.name()) + ") element " + i + " is " + v
                            + (variance ? "; a running variance must be finite and non-negative" : "; weights must be finite"));
                }
                params[p.offset() + i] = v;
            }
        }
        return Autoencoder.of(spec, params);
    }
}
