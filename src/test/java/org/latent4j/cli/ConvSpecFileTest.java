package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.latent4j.dsl.ModelSpec;

/** dsl-examples/conv-vae.json (what `train --spec` reads) is the W2 model that `bench train --workload w2` trains. */
class ConvSpecFileTest {
    @Test
    void theShippedConvVaeSpecIsWorkloadW2() throws Exception {
        ModelSpec file = ModelSpec.fromJson(Files.readString(Path.of("dsl-examples/conv-vae.json")));
        assertEquals(BenchCommand.w2(), file);
        assertEquals(784, file.inputDim());
        assertEquals("1x28x28", file.sampleShape().toString());
    }
}
