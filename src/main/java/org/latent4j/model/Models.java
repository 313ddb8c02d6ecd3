package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import org.latent4j.io.SafeTensors;

/** Opens any latent4j model file: an autoencoder or VAE, or a PCA or PPCA baseline. */
public final class Models {
    private Models() {}

    /** Reads and checks a model file; the metadata says which kind of model it holds. */
    public static LatentModel load(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        if (c.metadata().containsKey(Autoencoder.SPEC_KEY)) {
            return Autoencoder.from(c, file);
        }
        if (c.metadata().containsKey(LinearModel.KIND_KEY)) {
            return LinearModel.from(c, file);
        }
        throw new IOException(file + ": neither " + Autoencoder.SPEC_KEY + " nor " + LinearModel.KIND_KEY
                + " in the metadata; is it a latent4j model file?");
    }
}
