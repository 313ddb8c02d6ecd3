package org.latent4j.graph;

import org.latent4j.kernel.Shape;
import java.util.List;

/**
 * One value of the graph: the op that makes it (with the op's own attributes), its inputs (node
 * ids), the per-sample shape of its value, its name (the layer's name in errors and in the model
 * file) and the parameters it owns (names of tensors in the parameter arena, in the order its op
 * reads them).
 */
public record Node(int id, Op op, List<Integer> inputs, Shape shape, String name, List<String> params) {
    public Node {
        inputs = List.copyOf(inputs);
        params = List.copyOf(params);
    }

    /** Floats per sample of the node's value. */
    public int width() {
        return shape.size();
    }

    /** The id of input k. */
    public int input(int k) {
        return inputs.get(k);
    }
}
