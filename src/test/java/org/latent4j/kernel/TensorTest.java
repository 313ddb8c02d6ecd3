package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void rowMajorLayoutAndViews() {
        Tensor t = Tensor.wrap(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new int[] {3, 1}, t.strides());
        assertEquals(6f, t.get(1, 2));
        Tensor tt = t.transpose2d();
        assertArrayEquals(new int[] {3, 2}, tt.shape());
        assertEquals(2f, tt.get(1, 0));
        assertFalse(tt.isContiguous());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, tt.copy().data());
        Tensor r = t.row(1);
        assertEquals(5f, r.get(1));
        r.set(50f, 1);
        assertEquals(50f, t.get(1, 1), "a row is a view");
        assertArrayEquals(new int[] {3, 2}, t.reshape(3, 2).shape());
        assertEquals(6, t.size());
    }

    @Test
    void badShapesAreRejectedWithTheirReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(4, 0));
        assertTrue(e.getMessage().contains("dimension 1 of shape [4, 0] is 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("needs 6 elements but the array has 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).reshape(4, 2));
        assertTrue(e.getMessage().contains("cannot reshape [2, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).transpose2d().reshape(6));
        assertTrue(e.getMessage().contains("non-contiguous"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(65536, 65536));
        assertTrue(e.getMessage().contains("more than a Java array can hold"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Tensor.zeros(2, 3).get(2, 0));
    }
}
