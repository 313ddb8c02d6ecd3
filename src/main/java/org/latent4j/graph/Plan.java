package org.latent4j.graph;

import java.util.List;

/**
 * A compiled schedule: the steps to run and the buffer slot of every value, gradient and op
 * buffer ({@link Op#buffers}), chosen once by liveness so that slots are shared by buffers that
 * are never alive at the same time. Float slots hold {@code slotWidths[s]} floats per sample
 * (times the batch) plus {@code slotFixed[s]}; double slots hold {@code doubleSlotSizes[s]}; int
 * slots {@code intSlotWidths[s]} ints per sample (times the batch).
 *
 * @param valueSlot      slot of each node's output, or -1 if the plan never computes it
 * @param gradSlot       slot of each node's output gradient, or -1
 * @param bufferSlot     per node, the slot of each of its op's buffers in their order (a float
 *                       or a double slot, as the buffer is), or an empty array
 * @param scratchWidth   floats per sample of each of the two step scratch arrays, and doubles
 *                       of each of the two double scratch arrays (the widest node)
 * @param training       true for a training step (noise layers add their noise, batch
 *                       normalization uses the batch); false at inference and evaluation
 */
public record Plan(Graph graph, List<Step> steps, int[] valueSlot, int[] gradSlot, int[][] bufferSlot, int[] slotWidths,
                   int[] slotFixed, int[] doubleSlotSizes, int[] intSlotWidths, int scratchWidth, boolean training) {
    /** Floats per sample over all slots: the plan's activation memory. */
    public long floatsPerSample() {
        long s = 0;
        for (int w : slotWidths) {
            s += w;
        }
        return s;
    }
}
