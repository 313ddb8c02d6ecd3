package org.latent4j.spark;

import java.util.Locale;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.latent4j.model.AnomalyDetector;

/**
 * The Params an {@link AutoencoderEstimator} and the {@link AutoencoderModel} it fits share: the
 * input column and the output columns with the scoring settings (the estimator hands its values
 * to the model). Spark ML's shared params are Scala traits; this interface gives Java classes
 * the same getters and setters, each Param held by the stage ({@link #columnParams()}). An
 * output column whose name is empty is not produced.
 *
 * @param <S> the stage, so that setters chain
 */
public interface AutoencoderParams<S extends AutoencoderParams<S>> extends Params {
    /** The Param objects of this stage (made once, with the stage's uid as parent). */
    Columns columnParams();

    /** The shared Params of one stage, with their docs and defaults. */
    final class Columns implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final Param<String> featuresCol, latentCol, reconstructionCol, scoreCol, scoreKind, verdictCol;
        final IntParam scoreSamples, batchRows;
        final LongParam scoreSeed;
        final DoubleParam threshold;

        Columns(Params owner) {
            String uid = owner.uid();
            featuresCol = new Param<>(uid, "featuresCol", "the input column: a vector (org.apache.spark.ml.linalg.Vector) or an"
                    + " array<float> or array<double> of the model's input width");
            latentCol = new Param<>(uid, "latentCol", "output column of the latent means (a vector of the latent width; a VAE's mu);"
                    + " empty: none");
            reconstructionCol = new Param<>(uid, "reconstructionCol", "output column of the reconstructions, decode(encode(x)), as"
                    + " vectors (Bernoulli probabilities or Gaussian means); empty: none");
            scoreCol = new Param<>(uid, "scoreCol", "output column of the anomaly scores (double, higher is more anomalous; see"
                    + " scoreKind); empty: none");
            scoreKind = new Param<>(uid, "scoreKind", "the anomaly score: mse, mae, neg_log_likelihood, neg_elbo (VAE) or"
                    + " importance_weighted (VAE), as AnomalyDetector.Score");
            verdictCol = new Param<>(uid, "verdictCol", "output column of the verdict (score > threshold), produced when a"
                    + " threshold is set");
            scoreSamples = new IntParam(uid, "scoreSamples", "z samples (L, or K for importance_weighted) of the sampled scores (>= 1)");
            batchRows = new IntParam(uid, "batchRows", "rows a task sends through the kernels at once when scoring (>= 1)");
            scoreSeed = new LongParam(uid, "scoreSeed", "seed of the sampled scores' draws (the same draws for every row)");
            threshold = new DoubleParam(uid, "threshold", "anomaly threshold: a score above it is anomalous; NaN: no verdict column");
            owner.setDefault(featuresCol, "features");
            owner.setDefault(latentCol, "latent");
            owner.setDefault(reconstructionCol, "");
            owner.setDefault(scoreCol, "");
            owner.setDefault(scoreKind, "mse");
            owner.setDefault(verdictCol, "anomalous");
            owner.setDefault(scoreSamples, 1);
            owner.setDefault(batchRows, 256);
            owner.setDefault(scoreSeed, 0L);
            owner.setDefault(threshold, Double.NaN);
        }
    }

    default Param<String> featuresCol() { return columnParams().featuresCol; }
    default Param<String> latentCol() { return columnParams().latentCol; }
    default Param<String> reconstructionCol() { return columnParams().reconstructionCol; }
    default Param<String> scoreCol() { return columnParams().scoreCol; }
    default Param<String> scoreKind() { return columnParams().scoreKind; }
    default Param<String> verdictCol() { return columnParams().verdictCol; }
    default IntParam scoreSamples() { return columnParams().scoreSamples; }
    default IntParam batchRows() { return columnParams().batchRows; }
    default LongParam scoreSeed() { return columnParams().scoreSeed; }
    default DoubleParam threshold() { return columnParams().threshold; }

    default String getFeaturesCol() { return getOrDefault(featuresCol()); }
    default String getLatentCol() { return getOrDefault(latentCol()); }
    default String getReconstructionCol() { return getOrDefault(reconstructionCol()); }
    default String getScoreCol() { return getOrDefault(scoreCol()); }
    default String getScoreKind() { return getOrDefault(scoreKind()); }
    default String getVerdictCol() { return getOrDefault(verdictCol()); }
    default int getScoreSamples() { return (Integer) getOrDefault(scoreSamples()); }
    default int getBatchRows() { return (Integer) getOrDefault(batchRows()); }
    default long getScoreSeed() { return (Long) getOrDefault(scoreSeed()); }
    default double getThreshold() { return (Double) getOrDefault(threshold()); }

    @SuppressWarnings("unchecked")
    private S self() {
        return (S) this;
    }

    default S setFeaturesCol(String v) { set(featuresCol(), v); return self(); }
    default S setLatentCol(String v) { set(latentCol(), v); return self(); }
    default S setReconstructionCol(String v) { set(reconstructionCol(), v); return self(); }
    default S setScoreCol(String v) { set(scoreCol(), v); return self(); }
    default S setScoreKind(String v) { scoreKindOf(v); set(scoreKind(), v); return self(); }
    default S setVerdictCol(String v) { set(verdictCol(), v); return self(); }
    default S setScoreSamples(int v) { set(scoreSamples(), v); return self(); }
    default S setBatchRows(int v) { set(batchRows(), v); return self(); }
    default S setScoreSeed(long v) { set(scoreSeed(), v); return self(); }
    default S setThreshold(double v) { set(threshold(), v); return self(); }

    /** The score named by {@link #scoreKind()} ("neg_elbo" or "NEG_ELBO"); an unknown name is refused, naming the choices. */
    static AnomalyDetector.Score scoreKindOf(String name) {
        try {
            return AnomalyDetector.Score.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scoreKind: \"" + name + "\" is not a score; choose mse, mae, neg_log_likelihood, neg_elbo"
                    + " or importance_weighted");
        }
    }

    /** The output schema of this stage's model on data of schema {@code in} (the features column checked). */
    default org.apache.spark.sql.types.StructType outputSchema(org.apache.spark.sql.types.StructType in) {
        SparkRows.featuresIndex(in, "featuresCol", getFeaturesCol());
        if (!getScoreCol().isEmpty() || !Double.isNaN(getThreshold())) {
            scoreKindOf(getScoreKind());
        }
        return SparkRows.outputSchema(in, getLatentCol(), getReconstructionCol(), getScoreCol(),
                Double.isNaN(getThreshold()) ? "" : getVerdictCol());
    }
}
