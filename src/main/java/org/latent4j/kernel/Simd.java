package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that chooses the float {@link VectorSpecies} for every kernel.
 *
 * <p>Default: {@link FloatVector#SPECIES_PREFERRED}. Override with the system property
 * {@code latent4j.vectorBits} = 64, 128, 256 or 512 (e.g. to compare widths in a benchmark).
 * Results of GEMM do not depend on the width (each output element is accumulated in k order
 * in one lane); reductions across lanes (row sums, losses) may differ in the last bits.
 */
public final class Simd {
    private Simd() {}

    /** System property that overrides the vector width in bits. */
    public static final String VECTOR_BITS_PROPERTY = "latent4j.vectorBits";

    /** The species every kernel uses. */
    public static final VectorSpecies<Float> FLOAT = choose(System.getProperty(VECTOR_BITS_PROPERTY));

    /**
     * Four floats, for copies of exactly four values (a convolution's 4-wide kernel row): a full
     * 128-bit load and store beat a masked one of the wide species. Copies and element-wise adds
     * give the same bits at any width.
     */
    public static final VectorSpecies<Float> FLOAT_4 = FloatVector.SPECIES_128;

    /** Lanes per vector of {@link #FLOAT}. */
    public static final int LANES = FLOAT.length();

    static VectorSpecies<Float> choose(String bits) {
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        int b;
        try {
            b = Integer.parseInt(bits.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(VECTOR_BITS_PROPERTY + " must be 64, 128, 256 or 512, got '" + bits + "'");
        }
        VectorSpecies<Float> s = switch (b) {
            case 64 -> FloatVector.SPECIES_64;
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            case 512 -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException(VECTOR_BITS_PROPERTY + " must be 64, 128, 256 or 512, got " + b);
        };
        if (s.vectorBitSize() > VectorShape.preferredShape().vectorBitSize()) {
            throw new IllegalArgumentException(VECTOR_BITS_PROPERTY + "=" + b + " is wider than this CPU's preferred "
                    + VectorShape.preferredShape().vectorBitSize() + "-bit vectors");
        }
        return s;
    }

    /** A one-line description, e.g. {@code "Species[float, 16, S_512_BIT]"}. */
    public static String describe() {
        return "float x " + LANES + " (" + FLOAT.vectorBitSize() + "-bit)";
    }
}
