package org.latent4j.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lowers a (fused) graph to plans: the forward steps of a range of nodes, and for training the
 * backward steps derived ahead of time by reverse-mode rules, then buffer slots by liveness.
 */
public final class Planner {
    private Planner() {}

    /** Forward of the whole graph and backward of the loss: one training step. */
    public static Plan training(Graph g) {
        List<Step> steps = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.op() != Op.INPUT) {
                steps.add(new Step(forwardKind(n.op()), n.id(), false));
            }
        }
        // Reverse mode: visit nodes from last to first; a node's rule reads its output gradient
        // (complete by then: every consumer comes later in topological order) and writes or
        // adds to its inputs' gradients. The objective's terms (losses, penalties) start the flow.
        boolean[] hasGrad = new boolean[g.nodes().size()];
        boolean[] needsGrad = needsGradient(g);
        for (int i = g.nodes().size() - 1; i >= 0; i--) {
            Node n = g.node(i);
            Step.Kind k = backwardKind(n.op());
            if (k == null || n.op() == Op.KL_STANDARD_NORMAL) {
                continue; // no rule, or KL folded into REPARAMETERIZE_KL_BACKWARD
            }
            if (n.op().isObjective()) {
                int target = n.inputs().get(0);
                if (needsGrad[target]) {
                    steps.add(new Step(k, n.id(), hasGrad[target]));
                    hasGrad[target] = true;
                }
                continue;
            }
            if (!hasGrad[n.id()]) {
                continue; // nothing flows back into this node
            }
            boolean acc = false;
            boolean first = true;
            for (int in : n.inputs()) {
                if (needsGrad[in]) {
                    if (!first && acc != hasGrad[in]) {
                        throw new IllegalStateException(n.name() + ": its inputs' gradients are partly written already; not supported");
                    }
                    acc = hasGrad[in];
                    first = false;
                    hasGrad[in] = true;
                }
            }
            steps.add(new Step(k, n.id(), acc));
            // The contractive penalty's term in its weight's gradient comes after the step that writes that gradient.
            for (Node c : g.nodes()) {
                if (c.op() == Op.CONTRACTIVE && n.params().contains(c.params().get(0))) {
                    steps.add(new Step(Step.Kind.CONTRACTIVE_WEIGHT_BACKWARD, c.id(), true));
                }
            }
        }
        return assignSlots(g, steps, true, needsGrad);
    }

    /** Forward only, over nodes [from, to] (inclusive), for inference. */
    public static Plan forward(Graph g, int from, int to) {
        List<Step> steps = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            Node n = g.node(i);
            if (n.op() != Op.INPUT) {
                steps.add(new Step(forwardKind(n.op()), n.id(), false));
            }
        }
        return assignSlots(g, steps, false, needsGradient(g));
    }

    static Step.Kind forwardKind(Op op) {
        return switch (op) {
            case INPUT -> throw new IllegalStateException("INPUT has no forward step");
            case MATMUL -> Step.Kind.MATMUL_FORWARD;
            case BIAS_ADD -> Step.Kind.BIAS_ADD_FORWARD;
            case ACTIVATION -> Step.Kind.ACTIVATION_FORWARD;
            case DENSE -> Step.Kind.DENSE_FORWARD;
            case REPARAMETERIZE -> Step.Kind.REPARAMETERIZE_FORWARD;
            case KL_STANDARD_NORMAL -> Step.Kind.KL_FORWARD;
            case BERNOULLI_NLL -> Step.Kind.BERNOULLI_NLL_FORWARD;
            case GAUSSIAN_NLL -> Step.Kind.GAUSSIAN_NLL_FORWARD;
            case HUBER_LOSS -> Step.Kind.HUBER_FORWARD;
            case CONCAT -> Step.Kind.CONCAT_FORWARD;
            case NOISE -> Step.Kind.NOISE_FORWARD;
            case CLAMP -> Step.Kind.CLAMP_FORWARD;
            case SPARSITY_KL -> Step.Kind.SPARSITY_FORWARD;
            case ACTIVITY_L1 -> Step.Kind.ACTIVITY_L1_FORWARD;
            case CONTRACTIVE -> Step.Kind.CONTRACTIVE_FORWARD;
            case BATCH_NORM -> Step.Kind.BATCH_NORM_FORWARD;
        };
    }

    /** The backward rule of each op (null: no gradient flows through it). */
    static Step.Kind backwardKind(Op op) {
        return switch (op) {
            case INPUT -> null;
            case MATMUL -> Step.Kind.MATMUL_BACKWARD;
            case BIAS_ADD -> Step.Kind.BIAS_ADD_BACKWARD;
            case ACTIVATION -> Step.Kind.ACTIVATION_BACKWARD;
            case DENSE -> Step.Kind.DENSE_BACKWARD;
            case REPARAMETERIZE -> Step.Kind.REPARAMETERIZE_KL_BACKWARD;
            case KL_STANDARD_NORMAL -> Step.Kind.REPARAMETERIZE_KL_BACKWARD;
            case BERNOULLI_NLL -> Step.Kind.BERNOULLI_NLL_BACKWARD;
            case GAUSSIAN_NLL -> Step.Kind.GAUSSIAN_NLL_BACKWARD;
            case HUBER_LOSS -> Step.Kind.HUBER_BACKWARD;
            case CONCAT -> Step.Kind.CONCAT_BACKWARD;
            case NOISE -> Step.Kind.NOISE_BACKWARD;
            case CLAMP -> Step.Kind.CLAMP_BACKWARD;
            case SPARSITY_KL -> Step.Kind.SPARSITY_BACKWARD;
            case ACTIVITY_L1 -> Step.Kind.ACTIVITY_L1_BACKWARD;
            case CONTRACTIVE -> Step.Kind.CONTRACTIVE_BACKWARD;
            case BATCH_NORM -> Step.Kind.BATCH_NORM_BACKWARD;
        };
    }

    /**
     * Nodes whose output gradient is needed: those with a parameter at or before them (not the
     * inputs, nor what is made of inputs alone, such as input noise or the input joined with a
     * condition), except the objective's terms and KL, which start the flow.
     */
    private static boolean[] needsGradient(Graph g) {
        boolean[] need = new boolean[g.nodes().size()];
        for (Node n : g.nodes()) {
            if (n.op().isObjective() || n.op() == Op.KL_STANDARD_NORMAL || n.op() == Op.INPUT) {
                continue;
            }
            boolean upstream = !n.params().isEmpty();
            for (int in : n.inputs()) {
                upstream |= need[in];
            }
            need[n.id()] = upstream;
        }
        return need;
    }

    // ------------------------------------------------------------------ slots by liveness

    private record Interval(int kind, int node, int width, int start, int end) {}

    private static Plan assignSlots(Graph g, List<Step> steps, boolean training, boolean[] needsGrad) {
        int n = g.nodes().size();
        int[] vStart = new int[n], vEnd = new int[n], gStart = new int[n], gEnd = new int[n];
        Arrays.fill(vStart, -1);
        Arrays.fill(gStart, -1);
        Arrays.fill(vEnd, -1);
        Arrays.fill(gEnd, -1);
        int[] aStart = new int[n], aEnd = new int[n];
        Arrays.fill(aStart, -1);
        for (int t = 0; t < steps.size(); t++) {
            Step s = steps.get(t);
            Node node = g.node(s.node());
            if (!s.kind().isBackward()) {
                def(vStart, vEnd, node.id(), t);
                for (int in : node.inputs()) {
                    use(vStart, vEnd, in, t);
                }
                if (node.op() == Op.REPARAMETERIZE || (node.op() == Op.NOISE && training)) {
                    def(aStart, aEnd, node.id(), t);
                }
            } else {
                // A backward rule reads its node's inputs and output and its output gradient,
                // and writes its inputs' gradients.
                use(vStart, vEnd, node.id(), t);
                for (int in : node.inputs()) {
                    use(vStart, vEnd, in, t);
                }
                if (!node.op().isObjective()) {
                    use(gStart, gEnd, node.id(), t);
                }
                if (node.op() == Op.REPARAMETERIZE || node.op() == Op.NOISE) {
                    use(aStart, aEnd, node.id(), t);
                }
                if (node.op() == Op.REPARAMETERIZE && g.kl >= 0) {
                    use(vStart, vEnd, g.kl, t);
                }
                List<Integer> targets = s.kind() == Step.Kind.CONTRACTIVE_WEIGHT_BACKWARD ? List.of()
                        : node.op().isObjective() ? List.of(node.inputs().get(0)) : node.inputs();
                for (int in : targets) {
                    if (needsGrad[in]) {
                        def(gStart, gEnd, in, t);
                    }
                }
            }
        }
        // The input is written before the first step; losses are read after the last.
        if (vStart[g.input] >= 0 || vEnd[g.input] >= 0) {
            vStart[g.input] = -1;
        }
        List<Interval> intervals = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int w = g.node(i).width();
            if (vEnd[i] >= 0 || vStart[i] >= 0) {
                int start = Math.max(-1, vStart[i] < 0 ? -1 : vStart[i]);
                int end = vEnd[i];
                Node nd = g.node(i);
                boolean output = nd.op().isObjective() || nd.op() == Op.KL_STANDARD_NORMAL
                        || i == g.mu || i == g.logvar || i == g.code || i == g.output || i == g.z;
                if (output || end < start) {
                    end = steps.size(); // read by the caller after the plan ran
                }
                intervals.add(new Interval(0, i, w, start, end));
            }
            if (gStart[i] >= 0) {
                intervals.add(new Interval(1, i, w, gStart[i], Math.max(gEnd[i], gStart[i])));
            }
            if (aStart[i] >= 0) {
                intervals.add(new Interval(2, i, w, aStart[i], training ? Math.max(aEnd[i], steps.size()) : steps.size()));
            }
        }
        intervals.sort((a, b) -> a.start() != b.start() ? Integer.compare(a.start(), b.start()) : Integer.compare(b.width(), a.width()));
        List<int[]> slots = new ArrayList<>(); // {width, busyUntil}
        int[] valueSlot = new int[n], gradSlot = new int[n], auxSlot = new int[n];
        Arrays.fill(valueSlot, -1);
        Arrays.fill(gradSlot, -1);
        Arrays.fill(auxSlot, -1);
        for (Interval iv : intervals) {
            int best = -1;
            for (int s = 0; s < slots.size(); s++) {
                int[] slot = slots.get(s);
                if (slot[1] < iv.start() && (best < 0 || Math.abs(slot[0] - iv.width()) < Math.abs(slots.get(best)[0] - iv.width()))) {
                    best = s;
                }
            }
            if (best < 0) {
                slots.add(new int[] {iv.width(), iv.end()});
                best = slots.size() - 1;
            } else {
                int[] slot = slots.get(best);
                slot[0] = Math.max(slot[0], iv.width());
                slot[1] = iv.end();
            }
            switch (iv.kind()) {
                case 0 -> valueSlot[iv.node()] = best;
                case 1 -> gradSlot[iv.node()] = best;
                default -> auxSlot[iv.node()] = best;
            }
        }
        int[] widths = new int[slots.size()];
        for (int s = 0; s < widths.length; s++) {
            widths[s] = slots.get(s)[0];
        }
        return new Plan(g, List.copyOf(steps), valueSlot, gradSlot, auxSlot, widths, training);
    }

    private static void def(int[] start, int[] end, int id, int t) {
        if (start[id] < 0) {
            start[id] = t;
        }
        end[id] = Math.max(end[id], t);
    }

    private static void use(int[] start, int[] end, int id, int t) {
        end[id] = Math.max(end[id], t);
    }
}
