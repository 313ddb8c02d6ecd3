package org.latent4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.latent4j.bench.ConvBench;
import org.latent4j.bench.ElementwiseBench;
import org.latent4j.bench.GemmBench;
import org.latent4j.bench.NumpyGemm;
import org.latent4j.kernel.Simd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Benchmarks of the engine (JSON lines with --json).",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Conv.class, BenchCommand.Elementwise.class, BenchCommand.Train.class, BenchCommand.Infer.class, BenchCommand.StepTimes.class,
            BenchCommand.Serve.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static String json(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "null";
    }

    @Command(name = "gemm", description = "GFLOPS of the packed GEMM beside the FMA peak probe (same run, same threads), "
            + "the naive triple loop, and numpy/OpenBLAS when a python3 with numpy is found.")
    static final class Gemm implements Callable<Integer> {
        @Option(names = "--json", description = "One JSON object per line.")
        boolean json;

        @Option(names = "--quick", description = "Shorter timings (under a minute).")
        boolean quick;

        @Option(names = "--threads", split = ",", description = "Thread counts (default: 1 and all cores).")
        int[] threads;

        @Option(names = "--shapes", split = ",", paramLabel = "MxKxN",
                description = "Shapes (default: 128x784x512,128x512x256,128x256x784,512x512x512,1024x1024x1024,2048x2048x2048).")
        String[] shapes;

        @Option(names = "--no-openblas", description = "Skip the numpy/OpenBLAS peer.")
        boolean noOpenblas;

        @Option(names = "--python", description = "The python3 with numpy to use for the peer (default: python3 on the PATH).")
        String python;

        @Override
        public Integer call() {
            List<GemmBench.Shape> list = new ArrayList<>();
            if (shapes == null) {
                list.addAll(GemmBench.DEFAULT_SHAPES);
            } else {
                for (String s : shapes) {
                    list.add(GemmBench.Shape.parse(s));
                }
            }
            int cores = Runtime.getRuntime().availableProcessors();
            int[] t = threads != null ? threads : cores > 1 ? new int[] {1, cores} : new int[] {1};
            for (int x : t) {
                if (x < 1) {
                    throw new IllegalArgumentException("--threads: thread counts must be at least 1, got " + x);
                }
            }
            GemmBench.Budget budget = quick ? GemmBench.Budget.QUICK : GemmBench.Budget.FULL;
            Optional<NumpyGemm> peer = noOpenblas ? Optional.empty() : NumpyGemm.find(python);
            if (!json) {
                System.out.println("GEMM, float32, C = A*B, " + Simd.describe() + ", " + cores + " cores, " + LocalDate.now()
                        + (quick ? ", quick" : ""));
                System.out.println("peer: " + peer.map(NumpyGemm::description).orElse("none (no python3 with numpy found)"));
                System.out.printf(Locale.ROOT, "%-16s %7s %9s %9s %7s %10s %8s %9s %9s%n",
                        "shape (MxKxN)", "threads", "GFLOPS", "peak", "%peak", "OpenBLAS", "ours/OB", "naive", "ours/nv");
            }
            GemmBench.run(list, t, budget, peer.isEmpty() ? null : n -> {
                try {
                    Map<String, Double> measured = peer.get().measure(list, n, budget);
                    // Which kernels the peer ran: a peer on the wrong kernel set makes every ratio wrong.
                    String blas = peer.get().blas().isEmpty() ? "unknown (the peer printed no header)" : peer.get().blas();
                    if (json) {
                        Map<String, Object> line = new java.util.LinkedHashMap<>();
                        line.put("peer", peer.get().description());
                        line.put("threads", n);
                        line.put("blas", blas);
                        System.out.println(org.latent4j.dsl.Json.write(line));
                    } else {
                        System.out.println("peer at " + n + " thread(s): " + blas);
                    }
                    return measured;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, r -> {
                if (json) {
                    System.out.println("{\"shape\":\"" + r.shape() + "\",\"threads\":" + r.threads()
                            + ",\"gflops\":" + json(r.gflops()) + ",\"peak_gflops\":" + json(r.peakGflops())
                            + ",\"pct_of_peak\":" + json(100 * r.gflops() / r.peakGflops())
                            + ",\"naive_gflops\":" + json(r.naiveGflops())
                            + (Double.isNaN(r.openblasGflops()) ? "" : ",\"openblas_gflops\":" + json(r.openblasGflops()))
                            + ",\"vector_bits\":" + Simd.FLOAT.vectorBitSize() + "}");
                } else {
                    System.out.printf(Locale.ROOT, "%-16s %7d %9.1f %9.1f %6.1f%% %10s %8s %9.2f %8.0fx%n",
                            r.shape(), r.threads(), r.gflops(), r.peakGflops(), 100 * r.gflops() / r.peakGflops(),
                            Double.isNaN(r.openblasGflops()) ? "-" : String.format(Locale.ROOT, "%.1f", r.openblasGflops()),
                            Double.isNaN(r.openblasGflops()) ? "-" : String.format(Locale.ROOT, "%.2f", r.gflops() / r.openblasGflops()),
                            r.naiveGflops(), r.gflops() / r.naiveGflops());
                }
                System.out.flush();
            });
            return 0;
        }
    }

    @Command(name = "conv", description = {
            "GFLOPS of the convolution kernels (forward, data gradient, weight gradient) on the W2 layers",
            "beside the FMA peak probe (same run, same threads)."})
    static final class Conv implements Callable<Integer> {
        @Option(names = "--json", description = "One JSON object per line.")
        boolean json;

        @Option(names = "--quick", description = "Shorter timings (under a minute).")
        boolean quick;

        @Option(names = "--threads", split = ",", description = "Thread counts (default: 1 and all cores).")
        int[] threads;

        @Option(names = "--batch", description = "Samples per call (default: ${DEFAULT-VALUE}).", defaultValue = "128")
        int batch;

        @Override
        public Integer call() {
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
            }
            int cores = Runtime.getRuntime().availableProcessors();
            int[] t = threads != null ? threads : cores > 1 ? new int[] {1, cores} : new int[] {1};
            for (int x : t) {
                if (x < 1) {
                    throw new IllegalArgumentException("--threads: thread counts must be at least 1, got " + x);
                }
            }
            if (!json) {
                System.out.println("Conv2d, float32, NCHW, batch " + batch + ", " + Simd.describe() + ", " + cores + " cores, " + LocalDate.now()
                        + (quick ? ", quick" : ""));
                System.out.printf(Locale.ROOT, "%-28s %-17s %7s %9s %9s %9s %7s%n",
                        "layer", "pass", "threads", "ms", "GFLOPS", "peak", "%peak");
            }
            ConvBench.run(ConvBench.W2_LAYERS, batch, t, quick ? GemmBench.Budget.QUICK : GemmBench.Budget.FULL, r -> {
                if (json) {
                    System.out.println("{\"layer\":\"" + r.layer().name() + "\",\"pass\":\"" + r.pass().label() + "\",\"batch\":" + r.batch()
                            + ",\"threads\":" + r.threads() + ",\"ms\":" + String.format(Locale.ROOT, "%.3f", r.millis())
                            + ",\"gflops\":" + json(r.gflops()) + ",\"peak_gflops\":" + json(r.peakGflops())
                            + ",\"pct_of_peak\":" + json(100 * r.gflops() / r.peakGflops())
                            + ",\"vector_bits\":" + Simd.FLOAT.vectorBitSize() + "}");
                } else {
                    System.out.printf(Locale.ROOT, "%-28s %-17s %7d %9.3f %9.1f %9.1f %6.1f%%%n", r.layer().name(), r.pass().label(),
                            r.threads(), r.millis(), r.gflops(), r.peakGflops(), 100 * r.gflops() / r.peakGflops());
                }
                System.out.flush();
            });
            return 0;
        }
    }

    @Command(name = "elementwise", description = "Vectorized activations against their scalar loops, one thread.")
    static final class Elementwise implements Callable<Integer> {
        @Option(names = "--json", description = "One JSON object per line.")
        boolean json;

        @Option(names = "--quick", description = "Shorter timings.")
        boolean quick;

        @Option(names = "--size", description = "Elements per call (default ${DEFAULT-VALUE}).", defaultValue = "1000000")
        int size;

        @Override
        public Integer call() {
            if (size < 1) {
                throw new IllegalArgumentException("--size must be at least 1, got " + size);
            }
            if (!json) {
                System.out.println("Activations, " + size + " floats, 1 thread, " + Simd.describe() + ", " + LocalDate.now());
                System.out.printf(Locale.ROOT, "%-11s %-9s %12s %12s %8s%n", "activation", "pass", "vector ns/el", "scalar ns/el", "speedup");
            }
            ElementwiseBench.run(size, quick ? GemmBench.Budget.QUICK : GemmBench.Budget.FULL, r -> {
                if (json) {
                    System.out.println("{\"activation\":\"" + r.activation().name().toLowerCase(Locale.ROOT) + "\",\"pass\":\"" + r.pass()
                            + "\",\"n\":" + r.n() + ",\"threads\":1,\"vector_ns_per_element\":" + String.format(Locale.ROOT, "%.4f", r.vectorNsPerElement())
                            + ",\"scalar_ns_per_element\":" + String.format(Locale.ROOT, "%.4f", r.scalarNsPerElement())
                            + ",\"speedup\":" + json(r.speedup()) + "}");
                } else {
                    System.out.printf(Locale.ROOT, "%-11s %-9s %12.3f %12.3f %7.1fx%n", r.activation().name().toLowerCase(Locale.ROOT),
                            r.pass(), r.vectorNsPerElement(), r.scalarNsPerElement(), r.speedup());
                }
                System.out.flush();
            });
            return 0;
        }
    }


    /**
     * W2: the convolutional VAE of the shaped-graph issue (and of dsl-examples/conv-vae.json): two
     * strided 4x4 convolutions to 64x7x7, a 16-d Gaussian latent, a dense layer back to 64x7x7
     * and two transposed convolutions, Bernoulli pixels.
     */
    static org.latent4j.dsl.ModelSpec w2() {
        return org.latent4j.dsl.Model.encoder(1, 28, 28).conv2d(32, 4, 2, 1).relu().conv2d(64, 4, 2, 1).relu().flatten()
                .gaussianLatent(16)
                .decoder().dense(64 * 7 * 7).relu().reshape(64, 7, 7).convTranspose2d(32, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1)
                .bernoulli();
    }

    @Command(name = "train", description = "Training throughput and quality of a reference workload on the full Fashion-MNIST "
            + "(60000 train / 10000 test), Adam 1e-3, batch 128; one line per epoch. w1: the W1 VAE (784-512-256-32); w2: the "
            + "convolutional VAE (conv 32, conv 64, 16-d latent, transposed convs; dsl-examples/conv-vae.json), started from "
            + "PyTorch's default initialization as its PyTorch peer.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--workload", description = "Workload: w1 or w2 (default: ${DEFAULT-VALUE}).", defaultValue = "w1")
        String workload;

        @Option(names = "--json", description = "One JSON object per line.")
        boolean json;

        @Option(names = "--threads", description = "Threads (default: ${DEFAULT-VALUE}).", defaultValue = "1")
        int threads;

        @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).", defaultValue = "1")
        int epochs;

        @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).", defaultValue = "42")
        long seed;

        @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (default: Debian's "
                + "dataset-fashion-mnist).")
        java.nio.file.Path data;

        @Override
        public Integer call() throws Exception {
            String w = workload.toLowerCase(Locale.ROOT);
            if (!w.equals("w1") && !w.equals("w2")) {
                throw new IllegalArgumentException("--workload: unknown workload '" + workload + "' (known: w1, w2)");
            }
            if (threads < 1 || epochs < 1) {
                throw new IllegalArgumentException("--threads and --epochs must be at least 1");
            }
            java.nio.file.Path dir = data != null ? data : org.latent4j.data.FashionMnist.DEBIAN_DIR;
            if (!java.nio.file.Files.isDirectory(dir)) {
                throw new java.io.IOException(dir + ": " + w.toUpperCase(Locale.ROOT) + " needs the full Fashion-MNIST; install Debian's dataset-fashion-mnist "
                        + "(apt-get install dataset-fashion-mnist) or give --data DIR");
            }
            org.latent4j.data.Dataset train = org.latent4j.data.FashionMnist.fromDirectory(dir, false);
            org.latent4j.data.Dataset test = org.latent4j.data.FashionMnist.fromDirectory(dir, true);
            // W2 starts from PyTorch's default initialization, as its PyTorch peer does (the same recipe).
            org.latent4j.train.TrainingConfig cfg = org.latent4j.train.TrainingConfig.defaults()
                    .withEpochs(epochs).withThreads(threads).withSeed(seed)
                    .withWeightInit(w.equals("w2") ? org.latent4j.train.TrainingConfig.WeightInit.PYTORCH
                            : org.latent4j.train.TrainingConfig.WeightInit.BY_ACTIVATION);
            if (!json) {
                System.out.println((w.equals("w1") ? "W1: VAE 784-512-256-32" : "W2: convolutional VAE (conv 32, conv 64, latent 16)") + " on "
                        + train.rows() + " / " + test.rows() + " Fashion-MNIST images, Adam 1e-3, batch 128, "
                        + threads + " thread(s), " + Simd.describe() + ", " + LocalDate.now());
            }
            org.latent4j.train.Trainer.fit(w.equals("w1") ? TrainRun.defaultVae(32) : w2(), train, test, cfg, new org.latent4j.train.TrainingListener() {
                @Override
                public void onEpoch(org.latent4j.train.EpochStats s) {
                    if (json) {
                        System.out.println(String.format(Locale.ROOT,
                                "{\"workload\":\"%s\",\"epoch\":%d,\"threads\":%d,\"samples_per_s\":%.1f,\"epoch_s\":%.3f,"
                                        + "\"train_neg_elbo\":%.3f,\"test_neg_elbo\":%.3f,\"test_kl\":%.3f}",
                                w, s.epoch(), threads, s.samplesPerSecond(), s.seconds(), s.trainNegElbo(), s.validationNegElbo(), s.validationKl()));
                    } else {
                        System.out.printf(Locale.ROOT, "epoch %2d: %8.0f samples/s  %6.2f s  train -ELBO %.2f  test -ELBO %.2f%n",
                                s.epoch(), s.samplesPerSecond(), s.seconds(), s.trainNegElbo(), s.validationNegElbo());
                    }
                    System.out.flush();
                }
            });
            return 0;
        }
    }

    @Command(name = "step", description = "Where a W1 training step's time goes (batch 128, full Fashion-MNIST): batch copy, "
            + "forward and backward each split into their GEMMs (the plan's products timed alone) and the element-wise rest, "
            + "loss sums, gradient check, Adam; beside the physical limit (the step's FLOPs at the FMA probe's rate).")
    static final class StepTimes implements Callable<Integer> {
        @Option(names = "--json", description = "One JSON object per thread count.")
        boolean json;

        @Option(names = "--threads", split = ",", description = "Thread counts (default: 1 and all cores).")
        int[] threads;

        @Option(names = "--steps", description = "Timed steps (default: ${DEFAULT-VALUE}, after as many untimed).", defaultValue = "400")
        int steps;

        @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (default: Debian's dataset-fashion-mnist).")
        java.nio.file.Path data;

        @Override
        public Integer call() throws Exception {
            if (steps < 1) {
                throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
            }
            int[] ts = threads != null ? threads : Runtime.getRuntime().availableProcessors() > 1
                    ? new int[] {1, Runtime.getRuntime().availableProcessors()} : new int[] {1};
            java.nio.file.Path dir = data != null ? data : org.latent4j.data.FashionMnist.DEBIAN_DIR;
            org.latent4j.data.Dataset train = java.nio.file.Files.isDirectory(dir)
                    ? org.latent4j.data.FashionMnist.fromDirectory(dir, false) : org.latent4j.data.FashionMnist.bundledTrain();
            if (!json) {
                System.out.println("W1 training step (VAE 784-512-256-32, batch 128, Adam), " + Simd.describe() + ", " + LocalDate.now()
                        + ", data " + train.rows() + " rows; ms per step");
            }
            for (int t : ts) {
                if (t < 1) {
                    throw new IllegalArgumentException("--threads: thread counts must be at least 1, got " + t);
                }
                org.latent4j.bench.StepSplit.Result r = org.latent4j.bench.StepSplit.measure(TrainRun.defaultVae(32), train, t, 128, steps, steps, 42);
                if (json) {
                    System.out.println(String.format(Locale.ROOT, "{\"threads\":%d,\"batch\":%d,\"step_ms\":%.4f,\"samples_per_s\":%.0f,"
                                    + "\"batch_copy_ms\":%.4f,\"forward_ms\":%.4f,\"forward_gemm_ms\":%.4f,\"backward_ms\":%.4f,"
                                    + "\"backward_gemm_ms\":%.4f,\"elementwise_ms\":%.4f,\"loss_sums_ms\":%.4f,\"finite_check_ms\":%.4f,"
                                    + "\"optimizer_ms\":%.4f,\"step_gflop\":%.4f,\"probe_gflops\":%.1f,\"limit_ms\":%.4f,\"products\":%d}",
                            r.threads(), r.batch(), r.stepMs(), r.samplesPerSecond(), r.batchCopyMs(), r.forwardMs(), r.forwardGemmMs(),
                            r.backwardMs(), r.backwardGemmMs(), r.elementwiseMs(), r.lossSumsMs(), r.finiteCheckMs(), r.optimizerMs(),
                            r.stepGflop(), r.probeGflops(), r.limitMs(), r.products()));
                } else {
                    System.out.printf(Locale.ROOT, "%d thread(s): step %.3f ms (%.0f samples/s); forward GEMMs %.3f, backward GEMMs %.3f "
                                    + "(%d products, %.3f GFLOP: %.0f GFLOPS), element-wise %.3f, Adam %.3f, batch copy %.3f, loss sums %.3f, "
                                    + "gradient check %.3f; limit %.3f ms at the probe's %.0f GFLOPS (step at %.0f %% of it)%n",
                            r.threads(), r.stepMs(), r.samplesPerSecond(), r.forwardGemmMs(), r.backwardGemmMs(), r.products(), r.stepGflop(),
                            r.stepGflop() / (r.forwardGemmMs() + r.backwardGemmMs()) * 1e3, r.elementwiseMs(), r.optimizerMs(), r.batchCopyMs(),
                            r.lossSumsMs(), r.finiteCheckMs(), r.limitMs(), r.probeGflops(), 100 * r.limitMs() / r.stepMs());
                }
                System.out.flush();
            }
            return 0;
        }
    }

    @Command(name = "infer", description = "Inference of the W1 VAE (random weights; speed does not depend on them): "
            + "batch-1 reconstruct latency (median) and batch-256 encode throughput, on one thread, as one JSON line "
            + "with --json.")
    static final class Infer implements Callable<Integer> {
        @Option(names = "--json", description = "One JSON object.")
        boolean json;

        @Override
        public Integer call() {
            org.latent4j.dsl.ModelSpec spec = TrainRun.defaultVae(32).withInputDim(784);
            org.latent4j.model.Autoencoder m = org.latent4j.model.Autoencoder.of(spec,
                    org.latent4j.train.Trainer.initialParams(org.latent4j.graph.Graph.build(spec).fuse(), 1));
            org.latent4j.data.Dataset test = org.latent4j.data.FashionMnist.bundledTest();
            float[][] one = {test.row(0)};
            float[][] batch = new float[256][];
            for (int i = 0; i < batch.length; i++) {
                batch[i] = test.row(i);
            }
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end) {   // warm-up: C2 compiles the plans' kernels
                m.reconstruct(one);
                m.encode(batch);
            }
            double[] lat = new double[2001];
            for (int i = 0; i < lat.length; i++) {
                long t0 = System.nanoTime();
                m.reconstruct(one);
                lat[i] = (System.nanoTime() - t0) / 1e3;
            }
            double[] thr = new double[21];
            for (int i = 0; i < thr.length; i++) {
                long t0 = System.nanoTime();
                m.encode(batch);
                thr[i] = batch.length / ((System.nanoTime() - t0) / 1e9);
            }
            double latency = GemmBench.median(lat), throughput = GemmBench.median(thr);
            if (json) {
                System.out.println(String.format(Locale.ROOT, "{\"workload\":\"w1\",\"threads\":1,\"reconstruct_batch1_us\":%.1f,\"encode_batch256_samples_per_s\":%.0f}",
                        latency, throughput));
            } else {
                System.out.printf(Locale.ROOT, "W1 VAE, 1 thread: reconstruct batch 1 %.1f us (median of %d), encode batch 256 %.0f samples/s%n",
                        latency, lat.length, throughput);
            }
            return 0;
        }
    }

    @Command(name = "serve", description = "Serving throughput of one shared W1 VAE (random weights): 1, 2, 4 and 8 "
            + "application threads calling reconstruct at once, batch 1 and batch 32; calls/s, rows/s and the ratio to "
            + "1 thread.")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--json", description = "JSON lines.")
        boolean json;

        @Option(names = "--seconds", defaultValue = "2", description = "Seconds per point (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Override
        public Integer call() throws InterruptedException {
            org.latent4j.dsl.ModelSpec spec = TrainRun.defaultVae(32).withInputDim(784);
            org.latent4j.model.Autoencoder m = org.latent4j.model.Autoencoder.of(spec,
                    org.latent4j.train.Trainer.initialParams(org.latent4j.graph.Graph.build(spec).fuse(), 1));
            org.latent4j.data.Dataset test = org.latent4j.data.FashionMnist.bundledTest();
            float[][] rows = new float[32][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = test.row(i);
            }
            org.latent4j.bench.ServeBench.run(m, rows, 2, 1, 2);    // warm-up: C2 compiles the kernels
            org.latent4j.bench.ServeBench.run(m, rows, 2, 32, 2);
            for (int batch : new int[] {1, 32}) {
                double base = 0;
                for (int callers : new int[] {1, 2, 4, 8}) {
                    var p = org.latent4j.bench.ServeBench.run(m, rows, callers, batch, seconds);
                    base = callers == 1 ? p.rowsPerSecond() : base;
                    if (json) {
                        System.out.println(String.format(Locale.ROOT,
                                "{\"workload\":\"w1-serve\",\"callers\":%d,\"batch\":%d,\"calls_per_s\":%.0f,\"rows_per_s\":%.0f,\"vs_1_caller\":%.2f}",
                                callers, batch, p.callsPerSecond(), p.rowsPerSecond(), p.rowsPerSecond() / base));
                    } else {
                        System.out.printf(Locale.ROOT, "batch %2d, %d caller(s): %9.0f calls/s %9.0f rows/s  %.2f x 1 caller%n",
                                batch, callers, p.callsPerSecond(), p.rowsPerSecond(), p.rowsPerSecond() / base);
                    }
                }
            }
            return 0;
        }
    }
}
