package org.latent4j.graph;

import java.util.List;
import org.latent4j.kernel.Activation;

/**
 * One value of the graph: the op that makes it, its inputs (node ids), its width (features per
 * sample; 1 for per-sample losses), and what the op needs: the parameters it owns (names of
 * tensors in the parameter arena), the activation and its parameter, the variance of a fixed
 * Gaussian. {@code name} is the layer's name in errors and in the model file.
 */
public record Node(int id, Op op, List<Integer> inputs, int width, String name,
                   List<String> params, Activation activation, float activationParam, float variance) {
    public Node {
        inputs = List.copyOf(inputs);
        params = List.copyOf(params);
    }

    Node withOp(Op o, List<Integer> in, List<String> ps, Activation a, float ap) {
        return new Node(id, o, in, width, name, ps, a, ap, variance);
    }
}
