package org.latent4j.graph;

import org.latent4j.kernel.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lowers a (fused) graph to plans: the forward steps of a range of nodes, and for training the
 * backward steps derived ahead of time from each op's rule (which inputs take a gradient), with
 * the per-input and per-parameter accumulation flags; then buffer slots by liveness.
 */
public final class Planner {
    private Planner() {}

    /** Forward of the whole graph and backward of the objective: one training step. */
    public static Plan training(Graph g) {
        List<Step> steps = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Ops.Input)) {
                steps.add(Step.forward(n.id()));
            }
        }
        // Reverse mode: visit nodes from last to first; a node's rule reads its output gradient
        // (complete by then: every consumer comes later in topological order) and writes or
        // adds to its inputs' gradients. The objective's terms start the flow.
        int count = g.nodes().size();
        boolean[] hasGrad = new boolean[count];
        boolean[] needsGrad = needsGradient(g);
        Set<String> paramWritten = new HashSet<>();
        for (int i = count - 1; i >= 0; i--) {
            Node n = g.node(i);
            Op op = n.op();
            if (op instanceof Ops.Input || (op.term() == Op.Term.NONE && !hasGrad[i])) {
                continue;
            }
            if (n.inputs().size() > 64 || n.params().size() > 64) {
                throw new IllegalStateException(n.name() + ": more than 64 inputs or parameters");
            }
            long receives = 0, accIn = 0, accParams = 0;
            for (int k = 0; k < n.inputs().size(); k++) {
                int in = n.input(k);
                if (op.takesGradient(k) && needsGrad[in]) {
                    receives |= 1L << k;
                    if (hasGrad[in]) {
                        accIn |= 1L << k;
                    }
                    hasGrad[in] = true;
                }
            }
            boolean trained = false;
            for (int k = 0; k < n.params().size(); k++) {
                String p = n.params().get(k);
                if (g.param(p).role() != ParamSpec.Role.STATE) {
                    trained = true;
                    if (!paramWritten.add(p)) {
                        accParams |= 1L << k;
                    }
                }
            }
            if (receives != 0 || trained) {
                steps.add(new Step(i, true, receives, accIn, accParams));
            }
        }
        return assignSlots(g, steps, true);
    }

    /** Forward only, over nodes [from, to] (inclusive), for inference. */
    public static Plan forward(Graph g, int from, int to) {
        List<Step> steps = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            if (!(g.node(i).op() instanceof Ops.Input)) {
                steps.add(Step.forward(i));
            }
        }
        return assignSlots(g, steps, false);
    }

    /**
     * Nodes whose output gradient is needed: those with a trained parameter at or before them
     * along edges that take a gradient (not the inputs, nor what is made of inputs alone, such
     * as input noise or the input joined with a condition, nor what lies behind a stop-gradient),
     * except the objective's terms, which start the flow.
     */
    static boolean[] needsGradient(Graph g) {
        boolean[] need = new boolean[g.nodes().size()];
        for (Node n : g.nodes()) {
            if (n.op().term() != Op.Term.NONE || n.op() instanceof Ops.Input) {
                continue;
            }
            boolean upstream = false;
            for (String p : n.params()) {
                upstream |= g.param(p).role() != ParamSpec.Role.STATE;
            }
            for (int k = 0; k < n.inputs().size(); k++) {
                upstream |= n.op().takesGradient(k) && need[n.input(k)];
            }
            need[n.id()] = upstream;
        }
        return need;
    }

    // ------------------------------------------------------------------ slots by liveness

    private enum Kind { VALUE, GRADIENT, FLOATS, DOUBLES, INTS }

    private record Interval(Kind kind, int node, int buffer, int width, int fixed, int start, int end) {}

    private static Plan assignSlots(Graph g, List<Step> steps, boolean training) {
        int n = g.nodes().size();
        int[] vStart = filled(n), vEnd = filled(n), gStart = filled(n), gEnd = filled(n);
        List<List<Op.Buffer>> buffers = new ArrayList<>();
        int[][] bStart = new int[n][], bEnd = new int[n][];
        int widest = 1;
        for (Node node : g.nodes()) {
            List<Shape> in = new ArrayList<>();
            for (int i : node.inputs()) {
                in.add(g.node(i).shape());
            }
            List<Op.Buffer> bs = node.op().buffers(node, in, training);
            buffers.add(bs);
            bStart[node.id()] = filled(bs.size());
            bEnd[node.id()] = filled(bs.size());
            widest = Math.max(widest, node.width());
        }
        for (int t = 0; t < steps.size(); t++) {
            Step s = steps.get(t);
            Node node = g.node(s.node());
            int id = node.id();
            if (!s.backward()) {
                def(vStart, vEnd, id, t);
                for (int in : node.inputs()) {
                    use(vEnd, in, t);
                }
                for (int k = 0; k < bStart[id].length; k++) {
                    def(bStart[id], bEnd[id], k, t);
                }
            } else {
                // A backward rule reads its node's inputs and output, its output gradient and
                // its buffers, and writes its inputs' gradients.
                use(vEnd, id, t);
                for (int in : node.inputs()) {
                    use(vEnd, in, t);
                }
                if (node.op().term() == Op.Term.NONE) {
                    use(gEnd, id, t);
                }
                for (int k = 0; k < bEnd[id].length; k++) {
                    use(bEnd[id], k, t);
                }
                for (int k = 0; k < node.inputs().size(); k++) {
                    if (s.receivesGradient(k)) {
                        def(gStart, gEnd, node.input(k), t);
                    }
                }
            }
        }
        List<Interval> intervals = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Node nd = g.node(i);
            int w = nd.width();
            if (vEnd[i] >= 0 || vStart[i] >= 0) {
                int start = vStart[i];   // -1: loaded before the first step
                int end = vEnd[i];
                boolean output = nd.op().term() != Op.Term.NONE || i == g.mu || i == g.logvar || i == g.code || i == g.output || i == g.z;
                if (output || end < start) {
                    end = steps.size(); // read by the caller after the plan ran
                }
                intervals.add(new Interval(Kind.VALUE, i, 0, w, 0, start, end));
            }
            if (gStart[i] >= 0) {
                intervals.add(new Interval(Kind.GRADIENT, i, 0, w, 0, gStart[i], Math.max(gEnd[i], gStart[i])));
            }
            List<Op.Buffer> bs = buffers.get(i);
            for (int k = 0; k < bs.size(); k++) {
                if (bStart[i][k] < 0) {
                    continue;
                }
                Op.Buffer b = bs.get(k);
                int end = b.untilStateUpdate() ? steps.size() : Math.max(bEnd[i][k], bStart[i][k]);
                Kind kind = switch (b.type()) {
                    case FLOATS -> Kind.FLOATS;
                    case DOUBLES -> Kind.DOUBLES;
                    case INTS -> Kind.INTS;
                };
                intervals.add(new Interval(kind, i, k, b.perSample(), b.fixed(), bStart[i][k], end));
            }
        }
        intervals.sort((a, b) -> a.start() != b.start() ? Integer.compare(a.start(), b.start())
                : Integer.compare(b.width() + b.fixed(), a.width() + a.fixed()));
        List<int[]> floatSlots = new ArrayList<>(); // {width, fixed, busyUntil}
        List<int[]> doubleSlots = new ArrayList<>();
        List<int[]> intSlots = new ArrayList<>();
        int[] valueSlot = filled(n), gradSlot = filled(n);
        int[][] bufferSlot = new int[n][];
        for (int i = 0; i < n; i++) {
            bufferSlot[i] = filled(buffers.get(i).size());
        }
        for (Interval iv : intervals) {
            int slot = place(iv.kind() == Kind.DOUBLES ? doubleSlots : iv.kind() == Kind.INTS ? intSlots : floatSlots, iv);
            switch (iv.kind()) {
                case VALUE -> valueSlot[iv.node()] = slot;
                case GRADIENT -> gradSlot[iv.node()] = slot;
                case FLOATS, DOUBLES, INTS -> bufferSlot[iv.node()][iv.buffer()] = slot;
            }
        }
        int[] widths = new int[floatSlots.size()], fixed = new int[floatSlots.size()], doubles = new int[doubleSlots.size()];
        for (int s = 0; s < widths.length; s++) {
            widths[s] = floatSlots.get(s)[0];
            fixed[s] = floatSlots.get(s)[1];
        }
        for (int s = 0; s < doubles.length; s++) {
            doubles[s] = doubleSlots.get(s)[1];
        }
        int[] ints = new int[intSlots.size()];
        for (int s = 0; s < ints.length; s++) {
            ints[s] = intSlots.get(s)[0];
        }
        return new Plan(g, List.copyOf(steps), valueSlot, gradSlot, bufferSlot, widths, fixed, doubles, ints, widest, training);
    }

    /** Best fit: the free slot (busy until before the interval starts) whose width is closest; a new slot if none is free. */
    private static int place(List<int[]> slots, Interval iv) {
        int best = -1;
        for (int s = 0; s < slots.size(); s++) {
            int[] slot = slots.get(s);
            if (slot[2] < iv.start() && (best < 0 || Math.abs(slot[0] - iv.width()) < Math.abs(slots.get(best)[0] - iv.width()))) {
                best = s;
            }
        }
        if (best < 0) {
            slots.add(new int[] {iv.width(), iv.fixed(), iv.end()});
            return slots.size() - 1;
        }
        int[] slot = slots.get(best);
        slot[0] = Math.max(slot[0], iv.width());
        slot[1] = Math.max(slot[1], iv.fixed());
        slot[2] = iv.end();
        return best;
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, -1);
        return a;
    }

    private static void def(int[] start, int[] end, int id, int t) {
        if (start[id] < 0) {
            start[id] = t;
        }
        end[id] = Math.max(end[id], t);
    }

    private static void use(int[] end, int id, int t) {
        end[id] = Math.max(end[id], t);
    }
}
