package org.latent4j.graph;

import java.util.List;
import org.latent4j.dsl.LayerSpec;
import org.latent4j.kernel.Activation;

/**
 * One value of the graph: the op that makes it, its inputs (node ids), its width (features per
 * sample; 1 for per-sample losses), and what the op needs: the parameters it owns (names of
 * tensors in the parameter arena), the activation and its parameter, the variance of a fixed
 * Gaussian, and for a noise or penalty node the layer it comes from ({@code layer}; null for
 * the others). {@code name} is the layer's name in errors and in the model file.
 */
public record Node(int id, Op op, List<Integer> inputs, int width, String name,
                   List<String> params, Activation activation, float activationParam, float variance, LayerSpec layer) {
    public Node {
        inputs = List.copyOf(inputs);
        params = List.copyOf(params);
    }

}
