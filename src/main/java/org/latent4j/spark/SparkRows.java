package org.latent4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the Spark stages share: the check of the features column's type, the reading of a row's
 * features into a flat float arena (no object per row), the output schema, the Vector API check
 * made inside every task, and the unwrapping of a task's error on the driver.
 */
final class SparkRows {
    private SparkRows() {}

    /**
     * Whether this JVM has the module jdk.incubator.vector (the kernels' Vector API). Tests
     * replace it to play an executor started without the flag; executors in local mode share
     * the driver's JVM and so this field.
     */
    static volatile BooleanSupplier vectorModulePresent = () -> ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /** The sentence an executor (or the driver) without the Vector API fails with. */
    static String missingModuleMessage(String where) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "?";
        }
        String side = where.equals("driver") ? "spark.driver.extraJavaOptions" : "spark.executor.extraJavaOptions";
        return "latent4j needs the Java module jdk.incubator.vector, which the JVM of this " + where + " (host " + host
                + ") was started without: run Spark with --conf " + side + "=--add-modules=jdk.incubator.vector"
                + (where.equals("driver") ? " (or java --add-modules=jdk.incubator.vector)"
                        : " (and spark.driver.extraJavaOptions=--add-modules=jdk.incubator.vector for the driver)");
    }

    /** Fails with {@link #missingModuleMessage} unless the Vector API is there; called first in every task. */
    static void requireVectorModule(String where) {
        if (!vectorModulePresent.getAsBoolean()) {
            throw new IllegalStateException(missingModuleMessage(where));
        }
    }

    /**
     * Checks that {@code col} exists and holds a vector ({@code org.apache.spark.ml.linalg.Vector})
     * or an array of float or double; returns its index. The error names the column, its type
     * and what is taken.
     */
    static int featuresIndex(StructType schema, String param, String col) {
        List<String> names = List.of(schema.fieldNames());
        if (!names.contains(col)) {
            throw new IllegalArgumentException(param + ": the data has no column \"" + col + "\" (its columns: " + String.join(", ", names)
                    + ")");
        }
        DataType t = schema.apply(col).dataType();
        boolean ok = t.equals(SQLDataTypes.VectorType()) || t instanceof ArrayType a
                && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType));
        if (!ok) {
            throw new IllegalArgumentException(param + ": column \"" + col + "\" is of type " + t.simpleString()
                    + "; latent4j takes a vector (org.apache.spark.ml.linalg.Vector) or an array<float> or array<double> column");
        }
        return schema.fieldIndex(col);
    }

    /**
     * Writes the {@code d} features of {@code row}'s column {@code index} to {@code dst[off, off + d)}
     * as floats (a sparse vector's zeros too). Errors name the column, the row (within its
     * partition) and what is wrong: a null, or another width than the model's.
     */
    static void readFeatures(Row row, int index, float[] dst, int off, int d, String col, long rowNumber, int partition) {
        if (row.isNullAt(index)) {
            throw new IllegalArgumentException("column \"" + col + "\": " + where(rowNumber, partition) + " is null");
        }
        Object v = row.get(index);
        if (v instanceof DenseVector dv) {
            double[] a = dv.values();
            checkWidth(a.length, d, col, rowNumber, partition);
            for (int j = 0; j < d; j++) {
                dst[off + j] = (float) a[j];
            }
        } else if (v instanceof SparseVector sv) {
            checkWidth(sv.size(), d, col, rowNumber, partition);
            java.util.Arrays.fill(dst, off, off + d, 0f);
            int[] idx = sv.indices();
            double[] vals = sv.values();
            for (int k = 0; k < idx.length; k++) {
                dst[off + idx[k]] = (float) vals[k];
            }
        } else {
            List<Object> a = row.getList(index);
            checkWidth(a.size(), d, col, rowNumber, partition);
            for (int j = 0; j < d; j++) {
                Object x = a.get(j);
                if (x == null) {
                    throw new IllegalArgumentException("column \"" + col + "\": " + where(rowNumber, partition) + " has a null at element " + j);
                }
                dst[off + j] = ((Number) x).floatValue();
            }
        }
    }

    /** The width of the features in a row (for a spec whose input width comes from the data). */
    static int width(Row row, int index, String col) {
        if (row.isNullAt(index)) {
            throw new IllegalArgumentException("column \"" + col + "\": the first row is null");
        }
        Object v = row.get(index);
        return v instanceof org.apache.spark.ml.linalg.Vector vec ? vec.size() : row.getList(index).size();
    }

    private static void checkWidth(int got, int d, String col, long rowNumber, int partition) {
        if (got != d) {
            throw new IllegalArgumentException("column \"" + col + "\": " + where(rowNumber, partition) + " has " + got
                    + " values but the model takes " + d);
        }
    }

    private static String where(long rowNumber, int partition) {
        return "row " + rowNumber + " of partition " + partition;
    }

    /** Output columns that are set (non-empty names): the schema with them appended; refuses a name already taken. */
    static StructType outputSchema(StructType in, String latentCol, String reconstructionCol, String scoreCol, String verdictCol) {
        List<StructField> fields = new ArrayList<>(List.of(in.fields()));
        add(fields, in, latentCol, SQLDataTypes.VectorType(), "latentCol");
        add(fields, in, reconstructionCol, SQLDataTypes.VectorType(), "reconstructionCol");
        add(fields, in, scoreCol, DataTypes.DoubleType, "scoreCol");
        add(fields, in, verdictCol, DataTypes.BooleanType, "verdictCol");
        return new StructType(fields.toArray(StructField[]::new));
    }

    private static void add(List<StructField> fields, StructType in, String name, DataType type, String param) {
        if (name == null || name.isEmpty()) {
            return;
        }
        if (List.of(in.fieldNames()).contains(name) || fields.stream().anyMatch(f -> f.name().equals(name))) {
            throw new IllegalArgumentException(param + ": the output column \"" + name + "\" already exists; choose another name");
        }
        fields.add(DataTypes.createStructField(name, type, false));
    }

    /**
     * The error a task threw, out of the SparkException that carries it to the driver (Spark
     * wraps it in "Job aborted due to stage failure ..." and a stack trace): latent4j's own
     * errors come back as themselves, one line; anything else as it was.
     */
    static RuntimeException unwrap(Exception e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException || t instanceof IllegalStateException
                    || t instanceof org.latent4j.train.TrainingFailedException) {
                return (RuntimeException) t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }
}
