package org.latent4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Json;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.io.Pictures;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.CheckpointPolicy;
import org.latent4j.train.EpochStats;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.StackedPretraining;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;
import picocli.CommandLine.Option;

/** Options and the run shared by {@code demo} and {@code train}: data, recipe, output folder. */
final class TrainRun {
    @Option(names = "--data", paramLabel = "FILE|DIR",
            description = "Your data: a .csv (a header line or not; see --label-column, --id-column), .npy (rows x "
                    + "features) or IDX image file, or a folder with the Fashion-MNIST IDX files "
                    + "(train-images-idx3-ubyte.gz, ...). Default: the bundled Fashion-MNIST slice (5000 train, 1000 "
                    + "test images).")
    Path data;

    @picocli.CommandLine.Mixin
    SharedOptions.Columns columns;

    @Option(names = "--validation", paramLabel = "FRACTION",
            description = "Hold out this fraction of the rows, picked at random by --seed, to validate on (the -ELBO per "
                    + "epoch, early stopping). Default: 0.1 for a file; a Fashion-MNIST folder validates on its test "
                    + "set.")
    Double validationFraction;

    @Option(names = "--validation-data", paramLabel = "FILE",
            description = "Validate on the rows of this file instead (same columns as --data). Default: none (see --validation).")
    Path validationData;

    @Option(names = "--layers", split = ",", paramLabel = "UNITS",
            description = "The encoder's dense ReLU layers, e.g. 64,32; the decoder mirrors them. Default: 512,256 for "
                    + "Fashion-MNIST, 64,32 for a file.")
    int[] layers;

    @Option(names = "--kind", paramLabel = "KIND", defaultValue = "vae",
            description = "vae (a Gaussian latent), ae (a plain code) or denoising (an autoencoder trained on corrupted "
                    + "inputs: masking 0.3 for Bernoulli data, Gaussian noise 0.3 otherwise). Default: "
                    + "${DEFAULT-VALUE}.")
    String kind;

    @Option(names = "--likelihood", paramLabel = "LIKELIHOOD",
            description = "bernoulli (values in [0, 1]), gaussian (unit variance) or gaussian-learned (a learned variance "
                    + "per feature). Default: bernoulli when every value is in [0, 1], else gaussian (said in the log).")
    String likelihood;

    @Option(names = "--scale", paramLabel = "SCALING",
            description = "Input scaling fitted on the training rows, saved in the model file and applied by every use "
                    + "command: standardize (mean 0, sd 1), min-max (into [0, 1]), log1p (log(1 + x), then "
                    + "standardized: for counts) or none. Default: none when every value is in [0, 1], else "
                    + "standardize.")
    String scale;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder to write (default: runs/<command>-<date>-<time>).")
    Path out;

    @Option(names = "--model", paramLabel = "FILE", description = "Also save the trained model to this file (default: "
            + "only OUT/model.safetensors).")
    Path modelOut;

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).", defaultValue = "10")
    int epochs;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).", defaultValue = "128")
    int batch;

    @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE}).", defaultValue = "1e-3")
    float lr;

    @picocli.CommandLine.Mixin
    SharedOptions.Seed seedOption;

    @picocli.CommandLine.Mixin
    SharedOptions.Threads threadsOption;

    @Option(names = "--latent", description = "Latent dimensions. Default: 32 for Fashion-MNIST, 8 for a file (half its "
            + "features when fewer than 16).")
    Integer latent;

    @Option(names = "--beta", description = "Weight of the KL term (default: ${DEFAULT-VALUE}).", defaultValue = "1")
    float beta;

    @Option(names = "--checkpoint-every", paramLabel = "EPOCHS",
            description = "Save OUT/checkpoint.safetensors every EPOCHS epochs, atomically (default: ${DEFAULT-VALUE}; 0: "
                    + "never).",
            defaultValue = "1")
    int checkpointEvery;

    @Option(names = "--resume", paramLabel = "FILE",
            description = "Continue the run saved in this checkpoint, in its folder unless --out says otherwise. Give the "
                    + "same data and recipe (--lr, --batch, --seed, --beta, --latent) as the run that made it; --epochs "
                    + "may be raised; for a Helmholtz machine's checkpoint also the same --procedure, --sleep-lr and "
                    + "--eval-samples (--spec may be left out). Default: a new run.")
    Path resume;

    @Option(names = "--lr-schedule", paramLabel = "SCHEDULE", defaultValue = "constant",
            description = "Learning-rate schedule: constant, step:EVERY:FACTOR, exp:GAMMA, cosine[:MIN_FACTOR], each may "
                    + "follow warmup:STEPS, (e.g. warmup:500,cosine:0.01). Default: ${DEFAULT-VALUE}.")
    String lrSchedule;

    @Option(names = "--early-stopping", paramLabel = "PATIENCE",
            description = "Stop when the test -ELBO has not improved for PATIENCE epochs and keep the best epoch's "
                    + "weights (default: never stop early).")
    Integer earlyStopping;

    @Option(names = "--spec", paramLabel = "FILE",
            description = "Train this model (a latent4j model spec as JSON, e.g. from ModelSpec.toJson(): any "
                    + "autoencoder, VAE, denoising, sparse, contractive or conditional model) instead of the default "
                    + "VAE; --latent is then ignored. Default: none.")
    Path specFile;

    @Option(names = "--kl-schedule", paramLabel = "SCHEDULE", defaultValue = "constant",
            description = "KL weight over training: constant, linear:STEPS (warm-up from 0), cyclical:CYCLES[,FRACTION], "
                    + "or capacity:MAX_NATS,STEPS (beta |KL - C|, C rising to MAX_NATS). Default: ${DEFAULT-VALUE}.")
    String klSchedule;

    @Option(names = "--free-bits", paramLabel = "NATS", defaultValue = "0",
            description = "Free bits: no KL pressure on a latent dimension below NATS (batch mean). Default: ${DEFAULT-VALUE}.")
    float freeBits;

    @picocli.CommandLine.Mixin
    SharedOptions.Samples samplesOption;

    @Option(names = "--l1", paramLabel = "WEIGHT", defaultValue = "0", description = "L1 penalty on the weights. Default: "
            + "${DEFAULT-VALUE}.")
    float l1;

    @Option(names = "--l2", paramLabel = "WEIGHT", defaultValue = "0", description = "L2 penalty on the weights. Default: "
            + "${DEFAULT-VALUE}.")
    float l2;

    @Option(names = "--pretrain-epochs", paramLabel = "EPOCHS", defaultValue = "0",
            description = "Stacked autoencoder: first pretrain layer by layer, this many epochs per stage, then train end to end"
                    + " (the decoder must mirror the encoder). Default: ${DEFAULT-VALUE} (no pretraining).")
    int pretrainEpochs;

    @Option(names = "--pretrain", paramLabel = "HOW", defaultValue = "autoencoder",
            description = "With --pretrain-epochs: autoencoder (each stage a small autoencoder) or rbm (a stack of RBMs by CD-1,"
                    + " Hinton's recipe, unrolled into the autoencoder; logistic layers and a linear or sigmoid code). Default: ${DEFAULT-VALUE}.")
    String pretrain;

    @Option(names = "--procedure", paramLabel = "PROCEDURE", defaultValue = "wake-sleep",
            description = "For a Helmholtz machine (--spec with \"format\": \"latent4j-helmholtz\"): wake-sleep, rws:K (reweighted"
                    + " wake-sleep, K samples) or rws:K:sleep (with the sleep phase). Default: ${DEFAULT-VALUE}.")
    String procedure;

    @Option(names = "--sleep-lr", paramLabel = "RATE",
            description = "For a Helmholtz machine: the recognition network's learning rate (default: --lr).")
    Float sleepLr;

    @Option(names = "--eval-samples", paramLabel = "K", defaultValue = "25",
            description = "For a Helmholtz machine: importance samples of the validation log p(x) each epoch. Default: ${DEFAULT-VALUE}.")
    int evalSamples;

    @Option(names = "--skip-non-finite",
            description = "Skip (and count) batches whose loss or gradient is NaN or infinite instead of stopping "
                    + "(default: stop).")
    boolean skipNonFinite;

    /** The W1 VAE of the design card: 784-512-256 (ReLU) to a 32-d Gaussian, mirrored, Bernoulli pixels. */
    static ModelSpec defaultVae(int latent) {
        return Model.encoder().dense(512).relu().dense(256).relu().gaussianLatent(latent)
                .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
    }

    int run(String command, PrintStream o) throws IOException {
        if (epochs <= 0 || batch <= 0 || (latent != null && latent <= 0) || checkpointEvery < 0) {
            throw new IllegalArgumentException("--epochs, --batch and --latent must be positive and --checkpoint-every not negative");
        }
        if (resume != null && !Files.isRegularFile(resume)) {
            throw new IllegalArgumentException("--resume " + resume + ": no such file");
        }
        if (specFile != null && Files.isRegularFile(specFile)
                && org.latent4j.dsl.HelmholtzSpec.isHelmholtzJson(Files.readString(specFile))) {
            org.latent4j.dsl.HelmholtzSpec hs;
            try {
                hs = org.latent4j.dsl.HelmholtzSpec.fromJson(Files.readString(specFile));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--spec " + specFile + ": " + e.getMessage(), e);
            }
            return HelmholtzRun.run(this, command, o, hs);
        }
        if (resume != null && HelmholtzRun.isHelmholtzCheckpoint(resume)) {
            if (specFile != null) {
                throw new IllegalArgumentException("--resume " + resume + " is a Helmholtz machine's checkpoint but --spec " + specFile
                        + " is not a Helmholtz machine; leave --spec out (the checkpoint holds the machine) or give its spec");
            }
            return HelmholtzRun.run(this, command, o, null);
        }
        int t = threadsOption.resolve();
        long seed = seedOption.seed;
        int samples = samplesOption.samples;
        // Every option is checked before anything is read or written (a bad one leaves no empty run folder).
        TrainingConfig cfg = new TrainingConfig(OptimizerSpec.adam(lr), batch, epochs, seed, t, beta, 0f, true)
                .withOnNonFinite(skipNonFinite ? TrainingConfig.OnNonFinite.SKIP : TrainingConfig.OnNonFinite.STOP)
                .withSchedule(org.latent4j.train.LearningRateSchedule.parse(lrSchedule))
                .withEarlyStopping(earlyStopping == null ? null : org.latent4j.train.EarlyStopping.patience(earlyStopping))
                .withKlSchedule(org.latent4j.train.KlSchedule.parse(klSchedule)).withFreeBits(freeBits).withSamples(samples)
                .withWeightPenalties(l1, l2);
        if (pretrainEpochs < 0) {
            throw new IllegalArgumentException("--pretrain-epochs must not be negative, got " + pretrainEpochs);
        }
        boolean rbm = pretrain.equalsIgnoreCase("rbm");
        if (!rbm && !pretrain.equalsIgnoreCase("autoencoder")) {
            throw new IllegalArgumentException("--pretrain " + pretrain + ": expected autoencoder or rbm");
        }
        if (rbm && pretrainEpochs == 0) {
            throw new IllegalArgumentException("--pretrain rbm: say how many epochs each RBM trains with --pretrain-epochs");
        }
        if (pretrainEpochs > 0 && resume != null) {
            throw new IllegalArgumentException("--pretrain-epochs with --resume: the checkpoint already holds the weights; leave it out");
        }
        ModelSpec given = specFile == null ? null : readSpec(specFile);
        boolean fromFlags = layers != null || likelihood != null || !kind.equalsIgnoreCase("vae");
        if (given != null && (fromFlags || latent != null)) {
            throw new IllegalArgumentException("--spec gives the whole model; --layers, --latent, --kind and --likelihood describe one"
                    + " from flags: give one or the other");
        }
        if (fromFlags && !TrainData.KINDS.contains(kind.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("--kind " + kind + ": expected vae, ae or denoising");
        }
        TrainData td = TrainData.read(data, columns, validationFraction, validationData, seed);
        boolean fashion = data == null || Files.isDirectory(data);
        if (given != null) {
            boolean bernoulli = given.likelihood() instanceof org.latent4j.dsl.LikelihoodSpec.Bernoulli;
            td.choose(bernoulli ? "bernoulli" : "gaussian", "the spec's", scale);
        } else {
            td.choose(likelihood, "--likelihood", scale);
        }
        int features = td.train.features();
        int z = latent != null ? latent : fashion ? 32 : features < 16 ? Math.max(1, features / 2) : 8;
        ModelSpec built = given != null ? given
                : fashion && !fromFlags ? defaultVae(z)
                : TrainData.fromFlags(features, layers != null ? layers : fashion ? new int[] {512, 256} : new int[] {64, 32}, z,
                        kind, td.likelihood);
        Dataset train = td.scaledTrain, test = td.scaledValidation;
        List<StackedPretraining.Stage> stages = pretrainEpochs == 0 ? List.of()
                : StackedPretraining.stages(built, train.features());
        Path dir = out != null ? out : resume != null ? resume.toAbsolutePath().getParent() : Path.of("runs", command + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        org.latent4j.io.AtomicFiles.checkWritableFolder(dir);
        org.latent4j.train.Checkpoint resumed = resume != null ? org.latent4j.train.Checkpoint.read(resume) : null;
        ModelSpec spec = resumed != null ? resumed.spec() : built.withInputDim(train.features());
        CheckpointPolicy checkpoints = checkpointEvery == 0 ? null
                : new CheckpointPolicy(dir.resolve("checkpoint.safetensors"), checkpointEvery, 0);
        String unit = td.images ? "images" : "rows";
        String held = fashion && validationData == null && validationFraction == null ? "test" : "validation";
        o.printf(Locale.ROOT, "latent4j %s: " + (pretrainEpochs > 0 ? "stacked " : "") + describe(spec) + " on %s (%d train, %d %s %s), %d epochs, batch %d, Adam lr %s, seed %d, %d thread(s)%n",
                command, data == null ? train.source() : data, train.rows(), test.rows(), fashion && validationData == null
                        && validationFraction == null ? "test" : "validation", unit, epochs, batch, lr, seed, t);
        for (String line : td.log) {
            o.println(line);
        }
        if (resume != null) {
            o.println("resuming the run saved in " + resume);
        }
        o.print(spec.summary());
        List<EpochStats> history = new ArrayList<>();
        long t0 = System.nanoTime();
        Trainer.Result result;
        float[] initial = null;
        List<Object> pretraining = new ArrayList<>();
        for (int i = 0; i < stages.size() && !rbm; i++) {
            o.printf(Locale.ROOT, "pretraining stage %d of %d: %s%n", i + 1, stages.size(), stages.get(i).description());
        }
        if (!stages.isEmpty() && rbm) {
            o.println("RBM pretraining: CD-1, learning rate 0.1 (0.001 for a linear code), weight cost 0.0002, momentum 0.5 then 0.9,"
                    + " batches of 100, " + pretrainEpochs + " epochs per RBM");
            org.latent4j.train.RbmTrainer.Config rc = org.latent4j.train.RbmTrainer.Config.hinton(org.latent4j.model.Rbm.Kind.BERNOULLI_BERNOULLI,
                    pretrainEpochs).withSeed(seed).withThreads(t);
            StackedPretraining.Pretrained p = StackedPretraining.pretrainRbm(spec, train, rc, (stage, e) -> o.printf(Locale.ROOT,
                    "RBM %d epoch %d: reconstruction error %.4f, free energy %.4f, %.1f s%n", stage, e.epoch(), e.reconstructionError(),
                    e.freeEnergy(), e.seconds()));
            initial = p.params();
            reportStages(p, o, pretraining, "reconstruction error", "reconstruction_error", EpochStats::trainReconstruction);
        } else if (!stages.isEmpty()) {
            StackedPretraining.Pretrained p;
            try (ProgressListener bar = new ProgressListener(pretrainEpochs, o).naming(td.images ? "img" : "rows", held)) {
                p = StackedPretraining.pretrain(spec, train, cfg.withEpochs(pretrainEpochs), bar);
            }
            initial = p.params();
            reportStages(p, o, pretraining, "train loss", "train_loss", EpochStats::trainNegElbo);
        }
        List<org.latent4j.train.QuantizerHealth> health;
        try (ProgressListener bar = new ProgressListener(epochs, o).naming(td.images ? "img" : "rows", held).healthFile(dir.resolve("quantizer.json"))
                .discrete(spec.hasDiscreteLatent())) {
            health = bar.health;
            result = resumed != null ? Trainer.resume(resumed, resume, train, test, cfg, bar, checkpoints)
                    : Trainer.fit(spec, train, test, cfg, bar, checkpoints, null, initial);
        }
        history.addAll(result.history());
        double seconds = (System.nanoTime() - t0) / 1e9;
        // The model takes and gives rows in the data's own units: the scaling fitted on the training rows goes with it.
        Autoencoder model = result.model().withInputScaling(td.scaling);
        if (model.imageShape() == null && td.train.sampleShape() != null) {
            model = model.withImageShape(td.train.sampleShape());   // a model on features of images: pictures know the shape
        }
        spec = model.spec();
        Path modelFile = dir.resolve("model.safetensors");
        model.save(modelFile);
        if (modelOut != null) {
            model.save(modelOut);
        }
        List<String> pictures = new ArrayList<>(writePictures(dir, model, td.validation, history, fashion));
        if (org.latent4j.model.DiscreteCodes.has(model)) {
            pictures.addAll(VqRun.pictures(dir, model, td.train, td.validation, health));
        }
        // The epoch whose weights the model holds: the last, or the best one early stopping kept.
        EpochStats last = history.get((result.bestEpoch() > 0 ? result.bestEpoch() : history.size()) - 1);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("command", command);
        metrics.put("data", data == null ? train.source() : data.toString());
        metrics.put("likelihood", td.likelihood);
        metrics.put("scaling", td.scaling.isNone() ? "none" : td.scaling.kind());
        if (validationFraction != null || !fashion) {
            metrics.put("validation_fraction", validationFraction != null ? validationFraction : 0.1);
        }
        metrics.put("train_rows", train.rows());
        metrics.put("test_rows", test.rows());
        metrics.put("epochs", epochs);
        metrics.put("batch", batch);
        metrics.put("learning_rate", (double) lr);
        metrics.put("seed", seed);
        metrics.put("threads", t);
        metrics.put("beta", (double) beta);
        metrics.put("seconds", seconds);
        metrics.put("test_neg_elbo", last.validationNegElbo());
        metrics.put("test_reconstruction", last.validationReconstruction());
        metrics.put("test_kl", last.validationKl());
        List<Object> h = new ArrayList<>();
        for (EpochStats s : history) {
            h.add(historyEntry(s));
        }
        metrics.put("history", h);
        if (org.latent4j.model.DiscreteCodes.has(model)) {
            VqRun.metrics(metrics, model, health, td.train, td.validation);
        }
        metrics.put("spec", Json.parse(spec.toJson()));
        int skipped = history.stream().mapToInt(EpochStats::skippedBatches).sum();
        metrics.put("skipped_batches", skipped);
        metrics.put("learning_rate_schedule", lrSchedule);
        metrics.put("kl_schedule", klSchedule);
        metrics.put("free_bits", (double) freeBits);
        metrics.put("z_samples", samples);
        metrics.put("l1", (double) l1);
        metrics.put("l2", (double) l2);
        if (pretrainEpochs > 0) {
            metrics.put("pretrain_epochs", pretrainEpochs);
            metrics.put("pretrain", rbm ? "rbm" : "autoencoder");
            metrics.put("pretraining", pretraining);
        }
        if (earlyStopping != null) {
            metrics.put("best_epoch", result.bestEpoch());
            metrics.put("stopped_early", result.stoppedEarly());
        }
        org.latent4j.io.AtomicFiles.write(dir.resolve("metrics.json"), tmp -> Files.writeString(tmp, Json.write(metrics) + "\n"));
        if (earlyStopping != null) {
            o.printf(Locale.ROOT, "early stopping: best test -ELBO at epoch %d (its weights kept)%s%n", result.bestEpoch(),
                    result.stoppedEarly() ? ", stopped after epoch " + history.size() : "");
        }
        if (skipped > 0) {
            o.printf(Locale.ROOT, "skipped %d batch(es) whose loss or gradient was not finite%n", skipped);
        }
        if (spec.hasDiscreteLatent()) {
            o.printf(Locale.ROOT, "%s reconstruction %.2f nats per image after %d epochs, %.1f s%n", held, last.validationReconstruction(),
                    last.epoch(), seconds);
        } else {
            o.printf(Locale.ROOT, "%s -ELBO %.2f nats (reconstruction %.2f + KL %.2f) after %d epochs, %.1f s%n",
                    held, last.validationNegElbo(), last.validationReconstruction(), last.validationKl(), last.epoch(), seconds);
        }
        o.println("wrote " + dir + "/: model.safetensors, " + String.join(", ", pictures) + ", metrics.json"
                + (checkpoints != null ? ", checkpoint.safetensors" : "")
                + (modelOut != null ? "; and " + modelOut : ""));
        if (spec.hasDiscreteLatent()) {
            o.println("samples.png: code grids from a Markov prior fitted on the training codes; for the autoregressive PixelCNN prior run"
                    + " ./latent4j fit-prior --model " + modelFile + " --data " + (data == null ? "DATA" : data) + " (then sample draws from it)");
        }
        return 0;
    }

    /** A spec file, read and checked; errors name the file. */
    static ModelSpec readSpec(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--spec " + file + ": no such file");
        }
        try {
            return ModelSpec.fromJson(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--spec " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Prints each pretrained stage's last-epoch figure ("pretrained STAGE: LABEL x") and adds it to
     * metrics.json's "pretraining" list under {@code key}, then the line that fine-tuning follows.
     */
    private static void reportStages(StackedPretraining.Pretrained p, PrintStream o, List<Object> pretraining, String label, String key,
                                     java.util.function.ToDoubleFunction<EpochStats> figure) {
        for (StackedPretraining.Stage st : p.stages()) {
            double v = figure.applyAsDouble(st.history().get(st.history().size() - 1));
            o.printf(Locale.ROOT, "pretrained %s: %s %.4f%n", st.description(), label, v);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stage", st.description());
            m.put(key, v);
            pretraining.add(m);
        }
        o.println("fine-tuning the whole model end to end");
    }

    /** One epoch of metrics.json's "history" (the page of view RUN_DIR reads the same entries from a checkpoint's history). */
    static Map<String, Object> historyEntry(EpochStats s) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("epoch", s.epoch());
        e.put("train_reconstruction", s.trainReconstruction());
        e.put("train_kl", s.trainKl());
        e.put("train_neg_elbo", s.trainNegElbo());
        e.put("test_reconstruction", s.validationReconstruction());
        e.put("test_kl", s.validationKl());
        e.put("test_neg_elbo", s.validationNegElbo());
        e.put("epoch_s", s.seconds());
        e.put("samples_per_s", s.samplesPerSecond());
        if (s.trainPenalty() != 0) {
            e.put("train_penalty", s.trainPenalty());
        }
        if (s.activeUnits() >= 0) {
            e.put("kl_per_dimension", s.klPerDimension());
            e.put("active_units", s.activeUnits());
            if (s.collapseWarning() != null) {
                e.put("warning", s.collapseWarning());
            }
        }
        return e;
    }

    /** "VAE", "conditional VAE", "denoising autoencoder", ... for the first line of a run. */
    static String describe(ModelSpec spec) {
        List<String> words = new ArrayList<>();
        boolean noise = false, sparse = false;
        for (var l : spec.encoder()) {
            noise |= l.isNoise() && !(l instanceof org.latent4j.dsl.LayerSpec.Dropout);
            sparse |= l instanceof org.latent4j.dsl.LayerSpec.Sparsity;
        }
        if (spec.isConditional()) {
            words.add("conditional");
        }
        if (noise) {
            words.add("denoising");
        }
        if (sparse) {
            words.add("sparse");
        }
        if (spec.latent() instanceof org.latent4j.dsl.LatentSpec.Deterministic d && d.contractive() > 0) {
            words.add("contractive");
        }
        words.add(switch (spec.latent()) {
            case org.latent4j.dsl.LatentSpec.Gaussian _ -> "VAE";
            case org.latent4j.dsl.LatentSpec.Deterministic _ -> "autoencoder";
            case org.latent4j.dsl.LatentSpec.VectorQuantized _ -> "VQ-VAE";
            case org.latent4j.dsl.LatentSpec.FiniteScalar _ -> "FSQ autoencoder";
        });
        return String.join(" ", words);
    }

    /** The conditions of a conditional model for a data set (its context vectors, or its labels one-hot), else null. */
    static float[][] conditions(Autoencoder model, Dataset data, int rows) {
        if (!model.spec().isConditional()) {
            return null;
        }
        float[] flat = Trainer.conditions(data, model.conditionDim());
        float[][] c = new float[rows][];
        for (int i = 0; i < c.length; i++) {
            int r = i % data.rows();   // the rows' own conditions, repeating as the rows do
            c[i] = java.util.Arrays.copyOfRange(flat, r * model.conditionDim(), (r + 1) * model.conditionDim());
        }
        return c;
    }

    /**
     * loss.png and latent.png; for one-channel images (the model's input shape, else the test
     * data's) also reconstructions.png, samples.png and interpolation.png. Returns their names.
     */
    static List<String> writePictures(Path dir, Autoencoder model, Dataset test, List<EpochStats> history, boolean fashion) throws IOException {
        int n = history.size();
        double[] trainElbo = new double[n], testElbo = new double[n], recon = new double[n], kl = new double[n], testKl = new double[n];
        for (int i = 0; i < n; i++) {
            EpochStats s = history.get(i);
            trainElbo[i] = s.trainNegElbo();
            testElbo[i] = s.validationNegElbo();
            recon[i] = s.trainReconstruction();
            kl[i] = s.trainKl();
            testKl[i] = s.validationKl();
        }
        if (model.spec().hasDiscreteLatent()) {
            double[] testRecon = new double[n], vq = new double[n];
            for (int i = 0; i < n; i++) {
                testRecon[i] = history.get(i).validationReconstruction();
                vq[i] = history.get(i).trainPenalty();
            }
            Pictures.lineChart(dir.resolve("loss.png"), "loss per image (nats; a discrete latent has no KL term)", "epoch", List.of(
                    new Pictures.Series("train reconstruction", recon, Pictures.PALETTE[0]),
                    new Pictures.Series("test reconstruction", testRecon, Pictures.PALETTE[1]),
                    new Pictures.Series("train codebook + commitment", vq, Pictures.PALETTE[2])));
        } else {
            Pictures.lineChart(dir.resolve("loss.png"), "loss per image (nats)", "epoch", List.of(
                new Pictures.Series("train -elbo", trainElbo, Pictures.PALETTE[0]),
                new Pictures.Series("test -elbo", testElbo, Pictures.PALETTE[1]),
                new Pictures.Series("train reconstruction", recon, Pictures.PALETTE[2]),
                new Pictures.Series("train kl", kl, Pictures.PALETTE[3]),
                new Pictures.Series("test kl", testKl, Pictures.PALETTE[4])));
        }
        latentPicture(dir, model, test, fashion);
        org.latent4j.kernel.Shape image = UseCommands.pictureShape(model, test);
        if (image == null) {
            return List.of("loss.png", "latent.png");
        }
        int iw = image.width(), ih = image.height();
        int cols = 8;
        float[][] inputs = new float[2 * cols][];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = test.row(i % test.rows());   // fewer than 16 held-out rows repeat (was an out-of-bounds crash)
        }
        float[][] cond = conditions(model, test, inputs.length);
        float[][] rec = cond == null ? model.reconstruct(inputs) : model.reconstruct(inputs, cond);
        float[][] grid = new float[4 * cols][];
        for (int c = 0; c < cols; c++) {
            grid[c] = inputs[c];
            grid[cols + c] = rec[c];
            grid[2 * cols + c] = inputs[cols + c];
            grid[3 * cols + c] = rec[cols + c];
        }
        String held = fashion ? "test images" : "validation rows";
        Pictures.imageGrid(dir.resolve("reconstructions.png"), grid, cols, iw, ih, 3, "Reconstructions: " + held
                + " (input) above what the model makes of them", new String[] {"input", "reconstruction", "input", "reconstruction"});
        float[][] samples;
        if (model.spec().isConditional()) {
            // One row of samples per condition value (for Fashion-MNIST: per class).
            int k = Math.min(model.conditionDim(), 10);
            samples = new float[k * 8][];
            for (int c = 0; c < k; c++) {
                float[] onehot = new float[model.conditionDim()];
                onehot[c] = 1f;
                System.arraycopy(model.sample(8, 2024 + c, onehot), 0, samples, c * 8, 8);
            }
        } else {
            samples = model.sample(64, 2024);
        }
        String[] sampleRows = null;
        if (model.spec().isConditional()) {
            sampleRows = new String[samples.length / 8];
            for (int c = 0; c < sampleRows.length; c++) {
                sampleRows[c] = fashion && model.conditionDim() == FashionMnist.CLASSES.length ? FashionMnist.CLASSES[c] : "class " + c;
            }
        }
        Pictures.imageGrid(dir.resolve("samples.png"), samples, 8, iw, ih, 3, model.spec().isVariational()
                ? "Samples: the decoder's pixel means for " + samples.length + " draws z ~ N(0, I)"
                : "Decoded codes z ~ N(0, I) (an autoencoder has no prior)", sampleRows);
        // Spherical interpolation between pairs of test images (a conditional model keeps the first image's condition).
        float[][][] strips = new float[4][][];
        for (int p = 0; p < strips.length; p++) {
            float[] a = test.row(2 * p % test.rows()), b = test.row((2 * p + 1) % test.rows());
            strips[p] = cond == null ? model.interpolate(a, b, 10, org.latent4j.model.LatentModel.Interpolation.SPHERICAL)
                    : model.interpolate(a, b, 10, org.latent4j.model.LatentModel.Interpolation.SPHERICAL, cond[2 * p]);
        }
        String[] pairs = new String[strips.length];
        for (int p = 0; p < pairs.length; p++) {
            pairs[p] = String.format(Locale.ROOT, "image %d to %d", 2 * p, 2 * p + 1);
        }
        Pictures.interpolationStrip(dir.resolve("interpolation.png"), strips, iw, ih, 3, "Spherical interpolation in latent space"
                + " between " + held, pairs);
        return List.of("loss.png", "reconstructions.png", "samples.png", "interpolation.png", "latent.png");
    }

    static void latentPicture(Path dir, Autoencoder model, Dataset test, boolean fashion) throws IOException {
        // The test set's codes in 2-D (the first two dimensions of a 2-d code, else its first two principal components).
        float[][] all = new float[test.rows()][];
        for (int i = 0; i < all.length; i++) {
            all[i] = test.row(i);
        }
        float[][] allCond = conditions(model, test, test.rows());
        org.latent4j.model.LatentProjection.Plane plane = org.latent4j.model.LatentProjection.plane(
                allCond == null ? model.encode(all) : model.encode(all, allCond));
        Pictures.latentScatter(dir.resolve("latent.png"), (fashion ? "Test images" : "Validation rows") + " in latent space"
                + (test.labels() == null ? "" : ", coloured by class"), plane.xAxis(),
                plane.yAxis(), plane.points(), test.labels(), test.labels() == null || !fashion ? null : FashionMnist.CLASSES);
    }

    /** A progress bar per epoch (a well-kept library: me.tongfei progressbar), then one line per epoch. */
    static final class ProgressListener implements TrainingListener, AutoCloseable {
        private final int epochs;
        private final PrintStream out;
        private ProgressBar bar;
        private int epoch;
        /** The codebook's health after each epoch of a model with a discrete latent. */
        final List<org.latent4j.train.QuantizerHealth> health = new ArrayList<>();

        @Override
        public void onQuantizerHealth(org.latent4j.train.QuantizerHealth h) {
            health.add(h);
            out.println("  " + h.line());
            if (h.warning() != null) {
                out.println(h.warning());
            }
            if (healthFile != null) {
                // The health so far, for a page that follows the run (view RUN_DIR) before metrics.json exists.
                try {
                    String json = Json.write(VqRun.healthEntries(health)) + "\n";
                    org.latent4j.io.AtomicFiles.write(healthFile, tmp -> Files.writeString(tmp, json));
                } catch (IOException e) {
                    if (!healthFileFailed) {
                        out.println("note: could not write " + healthFile + " (" + e.getMessage() + "); training goes on");
                        healthFileFailed = true;
                    }
                }
            }
        }

        /** Where to keep the codebook's health of the epochs so far (quantizer.json in the run folder), or null. */
        private Path healthFile;
        private boolean healthFileFailed;

        /** A discrete latent (VQ, FSQ): epoch lines without a KL term. */
        private boolean discrete;

        ProgressListener discrete(boolean discrete) {
            this.discrete = discrete;
            return this;
        }

        ProgressListener healthFile(Path file) {
            this.healthFile = file;
            return this;
        }

        ProgressListener(int epochs, PrintStream out) {
            this.epochs = epochs;
            this.out = out;
        }

        private String unit = "img", held = "test";

        /** What the rows are called in the lines ("img", "rows") and the held-out ones ("test", "validation"). */
        ProgressListener naming(String unit, String held) {
            this.unit = unit;
            this.held = held;
            return this;
        }

        /** Without a terminal (CI logs, pipes) the bar's carriage returns only clutter: epoch lines only. */
        private final boolean terminal = System.console() != null;

        @Override
        public void onBatch(int e, long done, long total, double loss) {
            if (!terminal) {
                return;
            }
            if (bar == null || e != epoch) {
                close();
                epoch = e;
                bar = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", e, epochs))
                        .setInitialMax(total).setUnit(" " + unit, 1).showSpeed().setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(250).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(out))
                        .continuousUpdate().build();
            }
            bar.stepTo(done);
            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.2f", loss));
        }

        @Override
        public void onEpoch(EpochStats s) {
            close();
            if (discrete) {
                out.printf(Locale.ROOT, "epoch %d/%d: train reconstruction %.2f + codebook/commitment %.3f%s, %.1f s, %.0f " + unit + "/s%n",
                        s.epoch(), epochs, s.trainReconstruction(), s.trainPenalty(),
                        Double.isNaN(s.validationNegElbo()) ? "" : String.format(Locale.ROOT, ", " + held + " reconstruction %.2f",
                                s.validationReconstruction()), s.seconds(), s.samplesPerSecond());
                return;
            }
            out.printf(Locale.ROOT, "epoch %d/%d: train -ELBO %.2f (recon %.2f, KL %.2f%s)%s%s, %.1f s, %.0f " + unit + "/s%n",
                    s.epoch(), epochs, s.trainNegElbo(), s.trainReconstruction(), s.trainKl(),
                    s.trainPenalty() != 0 ? String.format(Locale.ROOT, ", penalties %.3f", s.trainPenalty()) : "",
                    Double.isNaN(s.validationNegElbo()) ? "" : String.format(Locale.ROOT, ", " + held + " -ELBO %.2f", s.validationNegElbo()),
                    s.activeUnits() >= 0 ? String.format(Locale.ROOT, ", %d/%d active units",
                            s.activeUnits(), s.klPerDimension().length) : "",
                    s.seconds(), s.samplesPerSecond());
            if (s.collapseWarning() != null) {
                out.println("warning: " + s.collapseWarning());
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
