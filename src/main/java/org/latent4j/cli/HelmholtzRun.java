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
import org.latent4j.data.Dataset;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.dsl.Json;
import org.latent4j.io.Pictures;
import org.latent4j.model.HelmholtzMachine;
import org.latent4j.train.CheckpointPolicy;
import org.latent4j.train.HelmholtzCheckpoint;
import org.latent4j.train.HelmholtzTrainer;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingProcedure;

/**
 * {@code train --spec helmholtz.json}: a Helmholtz machine trained by wake-sleep or reweighted
 * wake-sleep ({@code --procedure wake-sleep | rws:K | rws:K:sleep}), both groups at {@code --lr}
 * (the recognition group at {@code --sleep-lr} when given) with Adam; per epoch the training
 * bound, and on the validation rows the ELBO and the importance-sampled log p(x) with
 * {@code --eval-samples} samples. Writes model.safetensors, metrics.json, checkpoint.safetensors
 * every {@code --checkpoint-every} epochs (0: none) and, for 784 features, samples.png (ancestral
 * dreams); {@code --resume FILE} continues the run of such a checkpoint, bitwise as if it had not stopped.
 */
final class HelmholtzRun {
    private HelmholtzRun() {}

    /** The procedure an option names; errors say what is expected. */
    static TrainingProcedure procedure(String text, float lr, float sleepLr) {
        String p = text.toLowerCase(Locale.ROOT);
        if (p.equals("wake-sleep") || p.equals("ws")) {
            return new TrainingProcedure.WakeSleep(lr, sleepLr);
        }
        String[] parts = p.split(":");
        if (parts[0].equals("rws") && (parts.length == 2 || parts.length == 3 && parts[2].equals("sleep"))) {
            try {
                return new TrainingProcedure.ReweightedWakeSleep(Integer.parseInt(parts[1]), parts.length == 3, lr, sleepLr);
            } catch (NumberFormatException e) {
                // falls through to the message
            }
        }
        throw new IllegalArgumentException("--procedure " + text + ": expected wake-sleep, rws:K or rws:K:sleep (K samples per input)");
    }

    /**
     * Whether a file is a Helmholtz machine's checkpoint, from its safetensors header alone (not
     * its tensors); false for anything else, whose reader then says what is wrong with it.
     */
    static boolean isHelmholtzCheckpoint(Path file) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) >= 0) {
                // reads the 8 bytes of the header's length
            }
            long n = len.flip().remaining() == 8 ? len.getLong() : -1;
            if (n <= 0 || n > org.latent4j.io.SafeTensors.MAX_HEADER || n > ch.size() - 8) {
                return false;
            }
            java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate((int) n);
            while (h.hasRemaining() && ch.read(h) >= 0) {
                // reads the header
            }
            if (!(Json.parse(new String(h.array(), 0, h.position(), java.nio.charset.StandardCharsets.UTF_8)) instanceof Map<?, ?> header)
                    || !(header.get("__metadata__") instanceof Map<?, ?> md)) {
                return false;
            }
            return md.containsKey(HelmholtzCheckpoint.KEY) && md.containsKey(HelmholtzMachine.SPEC_KEY);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Trains the machine of {@code given} (the --spec file's), or with {@code --resume} continues
     * the run of a Helmholtz checkpoint (its machine; {@code given}, when not null, must be the same).
     */
    static int run(TrainRun opts, String command, PrintStream o, HelmholtzSpec given) throws IOException {
        String what = opts.specFile != null ? "--spec " + opts.specFile : "--resume " + opts.resume;
        if (opts.pretrainEpochs > 0 || opts.layers != null || opts.latent != null || opts.likelihood != null
                || !opts.kind.equalsIgnoreCase("vae")) {
            throw new IllegalArgumentException(what + " is a Helmholtz machine: --layers, --latent, --kind, --likelihood"
                    + " and --pretrain-epochs do not apply");
        }
        int threads = opts.threadsOption.resolve();
        TrainingProcedure proc = procedure(opts.procedure, opts.lr, opts.sleepLr != null ? opts.sleepLr : opts.lr);
        TrainingConfig cfg = new TrainingConfig(OptimizerSpec.adam(opts.lr), opts.batch, opts.epochs, opts.seedOption.seed, threads, 1f, 0f, true);
        HelmholtzCheckpoint resumed = opts.resume != null ? HelmholtzCheckpoint.read(opts.resume) : null;
        HelmholtzSpec spec = resumed != null ? resumed.model().spec() : given;
        if (resumed != null && given != null && !given.toJson().equals(spec.toJson())) {
            throw new IllegalArgumentException("--spec " + opts.specFile + " is " + given.describe() + " but the checkpoint --resume "
                    + opts.resume + " holds " + spec.describe() + "; give the same spec or leave --spec out");
        }
        TrainData td = TrainData.read(opts.data, opts.columns, opts.validationFraction, opts.validationData, opts.seedOption.seed);
        td.choose("bernoulli", "a Helmholtz machine's", "none");
        Dataset train = td.train, test = td.validation;
        if (train.features() != spec.visible()) {
            throw new IllegalArgumentException(what + ": the Helmholtz machine has " + spec.visible()
                    + " visible units but " + train.source() + " has " + train.features() + " features");
        }
        Path dir = opts.out != null ? opts.out : opts.resume != null ? opts.resume.toAbsolutePath().getParent()
                : Path.of("runs", command + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        org.latent4j.io.AtomicFiles.checkWritableFolder(dir);
        CheckpointPolicy checkpoints = opts.checkpointEvery == 0 ? null
                : new CheckpointPolicy(dir.resolve("checkpoint.safetensors"), opts.checkpointEvery, 0);
        o.printf(Locale.ROOT, "latent4j %s: %s on %s (%d train, %d validation rows), %s, %d epochs, batch %d, Adam, seed %d, %d thread(s)%n",
                command, spec.describe(), opts.data == null ? train.source() : opts.data, train.rows(), test.rows(), proc, opts.epochs,
                opts.batch, cfg.seed(), threads);
        if (resumed != null) {
            o.println("resuming the run saved in " + opts.resume + " (epoch " + resumed.progress().epoch() + ", row "
                    + resumed.progress().position() + ")");
        }
        o.print(HelmholtzMachine.initial(spec, 0, 0f).summary());
        long t0 = System.nanoTime();
        java.util.function.Consumer<HelmholtzTrainer.Epoch> report = e -> o.printf(Locale.ROOT,
                "epoch %d: train bound %.2f, validation ELBO %.2f, log p(x) (K=%d) %.2f nats, %.1f s%n", e.epoch(),
                e.trainBound(), e.validationBound(), e.evaluationSamples(), e.validationLogLikelihood(), e.seconds());
        HelmholtzTrainer.Result r = resumed != null
                ? HelmholtzTrainer.resume(resumed, opts.resume, train, test, cfg, proc, opts.evalSamples, null, report, checkpoints)
                : HelmholtzTrainer.fit(spec, train, test, cfg, proc, opts.evalSamples, null, report, checkpoints);
        double seconds = (System.nanoTime() - t0) / 1e9;
        HelmholtzMachine m = r.model();
        m.save(dir.resolve("model.safetensors"));
        if (opts.modelOut != null) {
            m.save(opts.modelOut);
        }
        List<String> files = new ArrayList<>(List.of("model.safetensors"));
        if (checkpoints != null) {
            files.add("checkpoint.safetensors");
        }
        if (spec.visible() == 784) {
            Pictures.imageGrid(dir.resolve("samples.png"), m.sample(64, cfg.seed()), 8, 28, 28, 2);
            files.add("samples.png");
        }
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("command", command);
        metrics.put("model", Json.parse(spec.toJson()));
        metrics.put("procedure", proc.toString());
        metrics.put("train_rows", train.rows());
        metrics.put("test_rows", test.rows());
        metrics.put("epochs", opts.epochs);
        metrics.put("batch", opts.batch);
        metrics.put("seed", cfg.seed());
        metrics.put("threads", threads);
        metrics.put("seconds", seconds);
        List<Object> h = new ArrayList<>();
        for (HelmholtzTrainer.Epoch e : r.history()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e.epoch());
            row.put("train_bound", e.trainBound());
            row.put("test_elbo", e.validationBound());
            row.put("test_log_likelihood", e.validationLogLikelihood());
            row.put("evaluation_samples", e.evaluationSamples());
            row.put("epoch_s", e.seconds());
            row.put("samples_per_s", e.rowsPerSecond());
            h.add(row);
        }
        metrics.put("history", h);
        HelmholtzTrainer.Epoch last = r.history().get(r.history().size() - 1);
        metrics.put("test_neg_log_likelihood", -last.validationLogLikelihood());
        metrics.put("test_neg_elbo", -last.validationBound());
        org.latent4j.io.AtomicFiles.write(dir.resolve("metrics.json"), tmp -> Files.writeString(tmp, Json.write(metrics) + "\n"));
        files.add("metrics.json");
        o.printf(Locale.ROOT, "validation -log p(x) %.2f nats (K = %d), -ELBO %.2f after %d epochs, %.1f s%n", -last.validationLogLikelihood(),
                last.evaluationSamples(), -last.validationBound(), last.epoch(), seconds);
        o.println("wrote " + dir + "/: " + String.join(", ", files));
        return 0;
    }
}
