package org.latent4j.graph;

import java.util.List;

/**
 * A compiled schedule: the steps to run and the buffer slot of every value, gradient and
 * auxiliary array, chosen once by liveness so that slots are shared by values that are never
 * alive at the same time. Sizes are per sample (multiply by the batch size).
 *
 * @param valueSlot   slot of each node's output, or -1 if the plan never computes it
 * @param gradSlot    slot of each node's output gradient, or -1
 * @param auxSlot     slot of a node's auxiliary array (the eps of REPARAMETERIZE), or -1
 * @param slotWidths  floats per sample of each slot
 * @param training    true for a training step (noise layers add their noise); false at
 *                    inference and evaluation (noise layers pass their input through)
 */
public record Plan(Graph graph, List<Step> steps, int[] valueSlot, int[] gradSlot, int[] auxSlot, int[] slotWidths,
                   boolean training) {
    /** Floats per sample over all slots: the plan's activation memory. */
    public long floatsPerSample() {
        long s = 0;
        for (int w : slotWidths) {
            s += w;
        }
        return s;
    }
}
