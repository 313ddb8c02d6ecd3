package org.latent4j.graph;

/** Finding a graph's discrete latent: its quantizer node (vector or finite scalar) and its number of codes. */
public final class Quantizers {
    private Quantizers() {}

    /** The quantizer node (VectorQuantize or FiniteScalarQuantize) of a graph, or null for a model without a discrete latent. */
    public static Node quantizer(Graph g) {
        for (Node n : g.nodes()) {
            if (n.op() instanceof Ops.VectorQuantize || n.op() instanceof Ops.FiniteScalarQuantize) {
                return n;
            }
        }
        return null;
    }

    /** Codes of a quantizer node: a VQ codebook's size or FSQ's product of levels. */
    public static int codes(Node q) {
        if (q.op() instanceof Ops.VectorQuantize v) {
            return v.codes();
        }
        if (q.op() instanceof Ops.FiniteScalarQuantize f) {
            int p = 1;
            for (int l : f.levels()) {
                p *= l;
            }
            return p;
        }
        throw new IllegalArgumentException(q.name() + " is not a quantizer");
    }
}
