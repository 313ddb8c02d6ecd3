package org.latent4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The peer in the GEMM benchmark: numpy's float32 matmul (OpenBLAS in the pip wheel), timed by
 * a small Python script run once per thread count with OPENBLAS_NUM_THREADS set.
 * Absent (empty) when no python3 with numpy is found.
 */
public final class NumpyGemm {
    private final String python;
    private final String description;

    private NumpyGemm(String python, String description) {
        this.python = python;
        this.description = description;
    }

    /** The first of {@code preferred}, python3 on PATH and /usr/bin/python3 that imports numpy. */
    public static Optional<NumpyGemm> find(String preferred) {
        List<String> candidates = new ArrayList<>();
        if (preferred != null) {
            candidates.add(preferred);
        }
        candidates.add("python3");
        candidates.add("/usr/bin/python3");
        for (String py : candidates) {
            try {
                Process p = new ProcessBuilder(py, "-c", "import numpy; print(numpy.__version__)").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return Optional.of(new NumpyGemm(py, "numpy " + out));
                }
            } catch (IOException e) {
                // not there; try the next one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    public String description() {
        return description + " (" + python + ")";
    }

    private static final Pattern SHAPE = Pattern.compile("\"shape\":\\s*\"(\\d+x\\d+x\\d+)\",\\s*\"gflops\":\\s*([0-9.eE+-]+)");
    private static final Pattern BLAS = Pattern.compile("\"blas\":\\s*\"([^\"]*)\"");

    /** GFLOPS per shape ("MxKxN") at the given thread count; an empty map if the run failed. */
    public Map<String, Double> measure(List<GemmBench.Shape> shapes, int threads, GemmBench.Budget budget) throws IOException {
        Path script = Files.createTempFile("latent4j-numpy-gemm", ".py");
        try (InputStream in = NumpyGemm.class.getResourceAsStream("numpy_gemm.py")) {
            if (in == null) {
                throw new IOException("numpy_gemm.py is missing from the latent4j jar");
            }
            Files.write(script, in.readAllBytes());
            StringBuilder json = new StringBuilder("[");
            for (int i = 0; i < shapes.size(); i++) {
                GemmBench.Shape s = shapes.get(i);
                json.append(i == 0 ? "" : ",").append('[').append(s.m()).append(',').append(s.k()).append(',').append(s.n()).append(']');
            }
            json.append(']');
            ProcessBuilder pb = new ProcessBuilder(python, script.toString(), json.toString(),
                    Double.toString(budget.minMillisPerRep() / 1000.0), Integer.toString(budget.reps()));
            for (String v : new String[] {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}) {
                pb.environment().put(v, Integer.toString(threads));
            }
            // The peer at its best: these two (set on some machines) force OpenBLAS onto slower kernels.
            pb.environment().remove("OPENBLAS_CORETYPE");
            pb.environment().remove("OPENBLAS_L2_SIZE");
            pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
            pb.redirectErrorStream(true);
            Process p = pb.start();
            Map<String, Double> out = new HashMap<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = SHAPE.matcher(line);
                    if (m.find()) {
                        out.put(m.group(1), Double.parseDouble(m.group(2)));
                    }
                    Matcher b = BLAS.matcher(line);
                    if (b.find()) {
                        blas = b.group(1);
                    }
                }
            }
            p.waitFor(10, TimeUnit.MINUTES);
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private String blas = "";

    /** The BLAS numpy reported in its last run, e.g. "scipy-openblas 0.3.31.188.0". */
    public String blas() {
        return blas;
    }
}
