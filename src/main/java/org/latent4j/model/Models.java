package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.latent4j.io.SafeTensors;

/** Opens any latent4j model file: an autoencoder or VAE, or a PCA or PPCA baseline. */
public final class Models {
    private Models() {}

    /** A model's own metadata with the caller's extra keys added; an extra key may not replace one of the model's. */
    static Map<String, String> withExtra(Map<String, String> own, Map<String, String> extra) {
        for (String k : extra.keySet()) {
            if (own.containsKey(k)) {
                throw new IllegalArgumentException("metadata key " + k + " is the model's own");
            }
        }
        own.putAll(extra);
        return own;
    }

    /** Reads and checks a model file; the metadata says which kind of model it holds. */
    public static LatentModel load(Path file) throws IOException {
        return from(SafeTensors.read(file), file);
    }

    /**
     * A PyTorch model's weights as a latent4j model of the given spec: a state_dict saved by
     * {@code safetensors.torch.save_file} whose tensors are named as the spec's equivalent PyTorch
     * modules name them ({@link PyTorchImport}). F32, F16, BF16 and F64 tensors are read as float32;
     * batch normalization's integer {@code num_batches_tracked} is ignored. Every tensor the spec
     * needs must be there with its shape, and no other: a wrong shape names the tensor and both
     * shapes, missing and unexpected tensors are named; a NaN or infinite weight, or a negative
     * running variance, names the tensor and the element.
     */
    public static Autoencoder load(Path weights, org.latent4j.dsl.ModelSpec spec) throws IOException {
        return PyTorchImport.load(weights, spec);
    }

    /**
     * An ONNX file compiled for the engine's kernels ({@code org.latent4j.onnx.OnnxModel.load}):
     * the ONNX reader lives in the {@code onnx} artifact (with protobuf-java), never in the engine,
     * so this finds it on the class path. Without it: an IOException saying which jars to add. The
     * file is checked as hostile data and unsupported operators are refused before anything runs
     * (see OnnxModel).
     */
    public static GraphModel loadOnnx(Path file) throws IOException {
        java.lang.reflect.Method load;
        try {
            load = Class.forName("org.latent4j.onnx.OnnxModel").getMethod("load", Path.class);
        } catch (ClassNotFoundException | NoClassDefFoundError | NoSuchMethodException e) {
            throw new IOException(file + ": reading ONNX needs the onnx artifact (org.latent4j:latent4j:<version>:onnx) and "
                    + "com.google.protobuf:protobuf-java on the class path beside the engine");
        }
        try {
            return (GraphModel) load.invoke(null, file);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("OnnxModel.load is not accessible", e);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error er) {
                throw er;
            }
            throw new IOException(file + ": " + cause, cause);
        }
    }

    /** The model in the checked contents of a file (read once by the caller, who may want its metadata too). */
    public static LatentModel from(SafeTensors.Contents c, Path file) throws IOException {
        if (c.metadata().containsKey(Autoencoder.SPEC_KEY)) {
            return Autoencoder.from(c, file);
        }
        if (c.metadata().containsKey(LinearModel.KIND_KEY)) {
            return LinearModel.from(c, file);
        }
        if (c.metadata().containsKey(HelmholtzMachine.SPEC_KEY)) {
            return HelmholtzMachine.from(c, file);
        }
        throw new IOException(file + ": neither " + Autoencoder.SPEC_KEY + " nor " + LinearModel.KIND_KEY
                + " in the metadata; is it a latent4j model file?");
    }
}
