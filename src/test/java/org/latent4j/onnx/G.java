package org.latent4j.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.latent4j.kernel.Parallelism;
import org.latent4j.onnx.OnnxGraph.Attribute;
import org.latent4j.onnx.OnnxGraph.Node;
import org.latent4j.onnx.OnnxGraph.Tensor;
import org.latent4j.onnx.OnnxGraph.ValueInfo;

/** A small builder of in-memory ONNX graphs for the tests (what OnnxReader makes of a file). */
final class G {
    final List<ValueInfo> inputs = new ArrayList<>();
    final List<ValueInfo> outputs = new ArrayList<>();
    final Map<String, Tensor> initializers = new LinkedHashMap<>();
    final List<Node> nodes = new ArrayList<>();
    long opset = 13;

    /** An input of per-sample dims (the batch first, symbolic). */
    G input(String name, int... sampleDims) {
        int[] d = new int[sampleDims.length + 1];
        d[0] = -1;
        System.arraycopy(sampleDims, 0, d, 1, sampleDims.length);
        inputs.add(new ValueInfo(name, d));
        return this;
    }

    G output(String... names) {
        for (String n : names) {
            outputs.add(new ValueInfo(n, null));
        }
        return this;
    }

    G init(String name, int[] dims, float[] values) {
        initializers.put(name, Tensor.ofFloats(name, dims, values));
        return this;
    }

    G ints(String name, long... values) {
        initializers.put(name, Tensor.ofLongs(name, new int[] {values.length}, values));
        return this;
    }

    G node(String op, List<String> in, List<String> out, Attribute... attributes) {
        Map<String, Attribute> a = new LinkedHashMap<>();
        for (Attribute x : attributes) {
            a.put(x.name(), x);
        }
        nodes.add(new Node(nodes.size(), op.toLowerCase(java.util.Locale.ROOT) + nodes.size(), op, "", in, out, a));
        return this;
    }

    OnnxGraph graph() {
        return new OnnxGraph(opset, inputs, outputs, initializers, nodes);
    }

    OnnxModel model() {
        return OnnxModel.of(graph(), Parallelism.serial());
    }

    static float[] random(SplittableRandom r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return v;
    }
}
