package org.latent4j.kernel;

import java.util.Arrays;

/**
 * A dense float32 tensor: a row-major {@code float[]} with an offset, a shape and strides.
 * Views ({@link #reshape}, {@link #transpose2d}, {@link #row}) share the array. No per-element
 * objects; kernels take {@link #data()} and {@link #offset()} directly.
 */
public final class Tensor {
    private final float[] data;
    private final int offset;
    private final int[] shape;
    private final int[] strides;

    private Tensor(float[] data, int offset, int[] shape, int[] strides) {
        this.data = data;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    /** A new zero tensor. Every dimension must be positive. */
    public static Tensor zeros(int... shape) {
        int[] s = checkShape(shape);
        long n = count(s);
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " has " + n
                    + " elements, more than a Java array can hold");
        }
        return new Tensor(new float[(int) n], 0, s, rowMajorStrides(s));
    }

    /** Wraps {@code data} (not copied) as a contiguous tensor of the given shape. */
    public static Tensor wrap(float[] data, int... shape) {
        if (data == null) {
            throw new IllegalArgumentException("data must not be null");
        }
        int[] s = checkShape(shape);
        long n = count(s);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " elements but the array has " + data.length);
        }
        return new Tensor(data, 0, s, rowMajorStrides(s));
    }

    public float[] data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    public int rank() {
        return shape.length;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[checkAxis(axis)];
    }

    public int[] strides() {
        return strides.clone();
    }

    public int stride(int axis) {
        return strides[checkAxis(axis)];
    }

    /** Number of elements. */
    public int size() {
        return (int) count(shape);
    }

    /** True when the elements are laid out row-major without gaps. */
    public boolean isContiguous() {
        return Arrays.equals(strides, rowMajorStrides(shape));
    }

    public float get(int... index) {
        return data[at(index)];
    }

    public void set(float value, int... index) {
        data[at(index)] = value;
    }

    /** A view with another shape of the same size; the tensor must be contiguous. */
    public Tensor reshape(int... newShape) {
        int[] s = checkShape(newShape);
        if (count(s) != count(shape)) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " (" + size() + " elements) to "
                    + Arrays.toString(newShape) + " (" + count(s) + " elements)");
        }
        if (!isContiguous()) {
            throw new IllegalArgumentException("cannot reshape a non-contiguous view of shape " + Arrays.toString(shape) + "; copy it first");
        }
        return new Tensor(data, offset, s, rowMajorStrides(s));
    }

    /** The transpose of a rank-2 tensor as a view (strides swapped). */
    public Tensor transpose2d() {
        if (shape.length != 2) {
            throw new IllegalArgumentException("transpose2d needs a rank-2 tensor, got shape " + Arrays.toString(shape));
        }
        return new Tensor(data, offset, new int[] {shape[1], shape[0]}, new int[] {strides[1], strides[0]});
    }

    /** Row i of a rank-2 tensor as a rank-1 view. */
    public Tensor row(int i) {
        if (shape.length != 2) {
            throw new IllegalArgumentException("row needs a rank-2 tensor, got shape " + Arrays.toString(shape));
        }
        if (i < 0 || i >= shape[0]) {
            throw new IndexOutOfBoundsException("row " + i + " of a tensor with " + shape[0] + " rows");
        }
        return new Tensor(data, offset + i * strides[0], new int[] {shape[1]}, new int[] {strides[1]});
    }

    /** A contiguous copy. */
    public Tensor copy() {
        Tensor out = zeros(shape);
        int n = size();
        int[] idx = new int[shape.length];
        for (int k = 0; k < n; k++) {
            out.data[k] = data[at(idx)];
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + (isContiguous() ? "" : " strides " + Arrays.toString(strides));
    }

    private int at(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index has " + index.length + " coordinates but the tensor has rank " + shape.length);
        }
        int p = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + index[d] + " out of range for axis " + d + " of size " + shape[d]);
            }
            p += index[d] * strides[d];
        }
        return p;
    }

    private int checkAxis(int axis) {
        if (axis < 0 || axis >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for rank " + shape.length);
        }
        return axis;
    }

    private static int[] checkShape(int[] shape) {
        if (shape == null || shape.length == 0) {
            throw new IllegalArgumentException("a tensor needs at least one dimension");
        }
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] <= 0) {
                throw new IllegalArgumentException("dimension " + d + " of shape " + Arrays.toString(shape)
                        + " is " + shape[d] + "; every dimension must be positive");
            }
        }
        return shape.clone();
    }

    private static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static int[] rowMajorStrides(int[] shape) {
        int[] s = new int[shape.length];
        int st = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = st;
            st *= shape[d];
        }
        return s;
    }
}
