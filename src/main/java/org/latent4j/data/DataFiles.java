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

    /**
     * As {@link #read(Path, boolean, boolean)}, a CSV file read as a table with a label column and an
     * ID column left out of the features (see {@link Csv#readTable}); the other formats have
     * neither (given one, they say so).
     */
    public static Csv.Table readTable(Path path, boolean test, boolean dropNonFinite, String labelColumn, String idColumn)
            throws IOException {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!Files.isDirectory(path) && name.endsWith(".csv")) {
            return Csv.readTable(path, labelColumn, idColumn, dropNonFinite);
        }
        if (labelColumn != null || idColumn != null) {
            throw new IOException(path + ": " + (labelColumn != null ? "--label-column" : "--id-column")
                    + " picks a column of a CSV file; this is " + (Files.isDirectory(path) ? "a folder" : "not a .csv file"));
        }
        return new Csv.Table(read(path, test, dropNonFinite), null, null, null);
    }
}
