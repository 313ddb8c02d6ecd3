package org.latent4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Reads a data set by its file name: .csv, .npy, IDX images (*-idx3-ubyte[.gz]), or a Fashion-MNIST folder. */
public final class DataFiles {
    private DataFiles() {}

    /** {@code test} picks the test half of a Fashion-MNIST folder. */
    public static Dataset read(Path path, boolean test) throws IOException {
        return read(path, test, false);
    }

    /** As {@link #read(Path, boolean)}; {@code dropNonFinite} leaves out (and counts) rows holding NaN or infinity. */
    public static Dataset read(Path path, boolean test, boolean dropNonFinite) throws IOException {
        if (Files.isDirectory(path)) {
            return FashionMnist.fromDirectory(path, test);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) {
            return Csv.read(path, dropNonFinite);
        }
        if (name.endsWith(".npy")) {
            return Npy.read(path, dropNonFinite);
        }
        if (name.contains("idx3-ubyte")) {
            return Idx.readImages(path, null);
        }
        throw new IOException(path + ": unknown data format (expected .csv, .npy, an IDX image file or a Fashion-MNIST folder)");
    }
}
