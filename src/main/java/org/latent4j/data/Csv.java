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

    /**
     * A table read from CSV: the feature rows (with the label column's whole numbers as labels), the
     * feature columns' names (null without a header line) and the ID column's cells (null without one).
     */
    public record Table(Dataset data, String[] featureNames, String[] ids, String idName) {
        /** "column 3 (amount)", or "column 3" without a header: the feature's 1-based column in the file. */
        public String describeFeature(int feature) {
            return featureNames == null ? "feature " + feature : "column '" + featureNames[feature] + "'";
        }
    }

    /**
     * Reads a CSV table: a header line (when a cell of the first line, outside the columns given by
     * index, is not a number) is kept for the column names; {@code labelColumn} (whole numbers, the
     * data's labels) and {@code idColumn} (any text, e.g. a transaction ID) are left out of the
     * features. Each is a column name from the header or a 1-based column number (as the errors
     * count), or null. Cells may be double-quoted ("a, b"). A text cell among the features, a
     * ragged line or a NaN (unless {@code dropNonFinite}) is an error naming the line, column and
     * column name.
     */
    public static Table readTable(Path file, String labelColumn, String idColumn, boolean dropNonFinite) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        java.util.List<String> lines;
        try (java.util.stream.Stream<String> st = Files.lines(file, StandardCharsets.UTF_8)) {
            lines = st.toList();
        } catch (java.io.UncheckedIOException e) {
            throw new IOException(file + ": not readable as UTF-8 text (" + e.getCause().getMessage() + ")", e.getCause());
        }
        int first = 0;
        while (first < lines.size() && lines.get(first).isBlank()) {
            first++;
        }
        if (first == lines.size()) {
            throw new IOException(file + ": no data rows");
        }
        String[] head = splitLine(lines.get(first), file, first + 1);
        int width = head.length;
        Integer labelIndex = asIndex(labelColumn), idIndex = asIndex(idColumn);
        boolean header = false;
        for (int c = 0; c < width && !header; c++) {
            boolean given = (labelIndex != null && labelIndex == c + 1) || (idIndex != null && idIndex == c + 1);
            header = !given && !isNumber(head[c].trim());
        }
        String[] names = header ? java.util.Arrays.stream(head).map(String::trim).toArray(String[]::new) : null;
        int label = column(file, "--label-column", labelColumn, names, width);
        int id = column(file, "--id-column", idColumn, names, width);
        if (label >= 0 && label == id) {
            throw new IOException(file + ": --label-column and --id-column both name column " + (label + 1));
        }
        int features = width - (label >= 0 ? 1 : 0) - (id >= 0 ? 1 : 0);
        if (features == 0) {
            throw new IOException(file + ": no feature columns left beside the label and ID columns");
        }
        String[] featureNames = names == null ? null : new String[features];
        int[] featureColumn = new int[features];
        for (int c = 0, f = 0; c < width; c++) {
            if (c != label && c != id) {
                featureColumn[f] = c;
                if (names != null) {
                    featureNames[f] = names[c];
                }
                f++;
            }
        }
        FloatBuffer values = new FloatBuffer();
        java.util.List<String> ids = id >= 0 ? new java.util.ArrayList<>() : null;
        int[] labels = label >= 0 ? new int[16] : null;
        int rows = 0, dropped = 0;
        for (int i = header ? first + 1 : first; i < lines.size(); i++) {
            int lineNo = i + 1;
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] cells = splitLine(lines.get(i), file, lineNo);
            if (cells.length != width) {
                throw new IOException(file + ": line " + lineNo + " has " + cells.length + " columns but line " + (first + 1)
                        + " has " + width);
            }
            boolean bad = false;
            for (int f = 0; f < features; f++) {
                int c = featureColumn[f];
                String cell = cells[c].trim();
                float v;
                try {
                    v = parse(cell);
                } catch (NumberFormatException e) {
                    throw new IOException(file + ": line " + lineNo + ", column " + (c + 1) + named(names, c) + ": '" + shorten(cell)
                            + "' is not a number" + (cell.isEmpty() ? " (an empty cell)" : ""));
                }
                if (!Float.isFinite(v) && !dropNonFinite) {
                    throw new IOException(file + ": line " + lineNo + ", column " + (c + 1) + named(names, c) + ": " + cell
                            + " is not a finite number");
                }
                bad |= !Float.isFinite(v);
                values.add(v);
            }
            if (bad) {
                values.removeLast(features);
                dropped++;
                continue;
            }
            if (labels != null) {
                String cell = cells[label].trim();
                float v;
                try {
                    v = parse(cell);
                } catch (NumberFormatException e) {
                    v = Float.NaN;
                }
                if (v != Math.rint(v) || Math.abs(v) > 1e6) {
                    throw new IOException(file + ": line " + lineNo + ", column " + (label + 1) + named(names, label) + ": '"
                            + shorten(cell) + "' is not a whole-number label (the label column holds classes such as 0 and 1)");
                }
                if (rows == labels.length) {
                    labels = java.util.Arrays.copyOf(labels, rows * 2);
                }
                labels[rows] = (int) v;
            }
            if (ids != null) {
                ids.add(cells[id].trim());
            }
            rows++;
        }
        if (rows == 0) {
            throw new IOException(file + ": no data rows" + (dropped > 0 ? " (all " + dropped + " held NaN or infinite values)" : ""));
        }
        Dataset d = new Dataset(values.toArray(), rows, features, labels == null ? null : java.util.Arrays.copyOf(labels, rows),
                file.toString(), dropped);
        return new Table(d, featureNames, ids == null ? null : ids.toArray(new String[0]), id < 0 ? null : names == null ? "id" : names[id]);
    }

    /** A column given by name (from the header) or 1-based number, as a 0-based index; -1 for none. */
    private static int column(Path file, String option, String given, String[] names, int width) throws IOException {
        if (given == null) {
            return -1;
        }
        if (names != null) {
            for (int c = 0; c < width; c++) {
                if (names[c].equals(given)) {
                    return c;
                }
            }
        }
        Integer n = asIndex(given);
        if (n == null) {
            throw new IOException(file + ": " + option + " " + given + ": " + (names == null
                    ? "the file has no header line to find a column name in; give the column's number (1 to " + width + ")"
                    : "no such column (the header has: " + shorten(String.join(", ", names)) + ")"));
        }
        if (n < 1 || n > width) {
            throw new IOException(file + ": " + option + " " + given + ": the file has " + width + " columns (1 to " + width + ")");
        }
        return n - 1;
    }

    private static Integer asIndex(String s) {
        return s != null && s.matches("\\d{1,9}") ? Integer.valueOf(s) : null;
    }

    private static String named(String[] names, int c) {
        return names == null ? "" : " (" + shorten(names[c]) + ")";
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    /** One CSV line split at commas outside double quotes; "" inside quotes is one quote. */
    static String[] splitLine(String line, Path file, int lineNo) throws IOException {
        if (line.indexOf('"') < 0) {
            return line.split(",", -1);
        }
        java.util.List<String> cells = new java.util.ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cell.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        if (quoted) {
            throw new IOException(file + ": line " + lineNo + ": a double quote is not closed (cells spanning lines are not supported)");
        }
        cells.add(cell.toString());
        return cells.toArray(new String[0]);
    }

    /** A cell for a CSV file: quoted when it holds a comma, a quote or a line break. */
    public static String quote(String cell) {
        if (cell.indexOf(',') < 0 && cell.indexOf('"') < 0 && cell.indexOf('\n') < 0 && cell.indexOf('\r') < 0) {
            return cell;
        }
        return '"' + cell.replace("\"", "\"\"") + '"';
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
