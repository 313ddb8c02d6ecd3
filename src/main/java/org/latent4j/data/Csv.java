package org.latent4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Numeric CSV (comma-separated floats, one sample per line). An optional header line is
 * skipped when its first cell is not a number. Errors name the file, the line and the column.
 */
public final class Csv {
    private Csv() {}

    public static Dataset read(Path file) throws IOException {
        return read(file, false);
    }

    /**
     * Reads a CSV file; a NaN or infinite cell is an error naming its line and column, unless
     * {@code dropNonFinite}: then its row is left out and counted in {@link Dataset#droppedRows()}.
     */
    public static Dataset read(Path file, boolean dropNonFinite) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        FloatBuffer values = new FloatBuffer();
        int width = -1, rows = 0, lineNo = 0, dropped = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",", -1);
                if (rows == 0 && width < 0 && !isNumber(cells[0].trim())) {
                    width = cells.length; // header
                    continue;
                }
                if (width >= 0 && cells.length != width) {
                    throw new IOException(file + ": line " + lineNo + " has " + cells.length + " columns but line"
                            + (rows == 0 ? "s before it have " : "s before it have ") + width);
                }
                width = cells.length;
                boolean bad = false;
                for (int c = 0; c < cells.length; c++) {
                    String cell = cells[c].trim();
                    float v;
                    try {
                        v = parse(cell);
                    } catch (NumberFormatException e) {
                        throw new IOException(file + ": line " + lineNo + ", column " + (c + 1) + ": '" + cell + "' is not a number");
                    }
                    if (!Float.isFinite(v) && dropNonFinite) {
                        bad = true;
                    } else if (!Float.isFinite(v)) {
                        throw new IOException(file + ": line " + lineNo + ", column " + (c + 1) + ": " + cell
                                + " is not a finite number");
                    }
                    values.add(v);
                }
                if (bad) {
                    values.removeLast(cells.length);
                    dropped++;
                    continue;
                }
                rows++;
            }
        }
        if (rows == 0) {
            throw new IOException(file + ": no data rows" + (dropped > 0 ? " (all " + dropped + " held NaN or infinite values)" : ""));
        }
        return new Dataset(values.toArray(), rows, width, null, file.toString(), dropped);
    }

    /** A float as Java writes it, plus the spellings of NumPy and pandas: nan, inf, -inf (any case). */
    static float parse(String s) {
        switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "nan", "+nan", "-nan" -> {
                return Float.NaN;
            }
            case "inf", "+inf", "infinity", "+infinity" -> {
                return Float.POSITIVE_INFINITY;
            }
            case "-inf", "-infinity" -> {
                return Float.NEGATIVE_INFINITY;
            }
            default -> {
                char last = s.isEmpty() ? ' ' : Character.toLowerCase(s.charAt(s.length() - 1));
                if (last == 'f' || last == 'd') {
                    throw new NumberFormatException(s);   // Java's 1.5f / 2d suffixes are not CSV numbers
                }
                return Float.parseFloat(s);
            }
        }
    }

    private static boolean isNumber(String s) {
        try {
            parse(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Writes rows as CSV (for the CLI's outputs). */
    public static void write(Path file, float[][] rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (float[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                if (c > 0) {
                    sb.append(',');
                }
                sb.append(row[c]);
            }
            sb.append('\n');
        }
        org.latent4j.io.AtomicFiles.write(file, tmp -> Files.writeString(tmp, sb));
    }

    /** A growable float array. */
    static final class FloatBuffer {
        private float[] a = new float[1024];
        private int n;

        void add(float v) {
            if (n == a.length) {
                if (a.length > Integer.MAX_VALUE / 2 - 16) {
                    throw new IllegalArgumentException("too many values for one array");
                }
                a = java.util.Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        void removeLast(int k) {
            n -= k;
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
