// VAE variants side by side: beta, KL annealing (linear, cyclical), capacity beta|KL - C|, free
// bits, and 4 z samples per image; each with its test reconstruction, KL, per-dimension KL and
// active units (and the collapse warning when the code goes unused).
// Run: ./latent4j run dsl-examples/VaeVariants.java
import java.util.Arrays;
import java.util.LinkedHashMap;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.*;

void main() {
    var vae = Model.encoder().dense(256).relu().gaussianLatent(8).clampLogVariance(-10f, 6f)
            .decoder().dense(256).relu().dense(784).bernoulli();
    var base = TrainingConfig.defaults().withEpochs(5).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    long steps = 5L * 50;
    var variants = new LinkedHashMap<String, TrainingConfig>();
    variants.put("beta 1", base);
    variants.put("beta 4", base.withKlWeight(4f));
    variants.put("beta 100 (collapses)", base.withKlWeight(100f));
    variants.put("linear KL warm-up", base.withKlSchedule(KlSchedule.linear(steps / 2)));
    variants.put("cyclical KL, 2 cycles", base.withKlSchedule(KlSchedule.cyclical(2, 0.5)));
    variants.put("capacity 5 nats, beta 20", base.withKlWeight(20f).withKlSchedule(KlSchedule.capacity(5, steps / 2)));
    variants.put("beta 4 + free bits 0.5", base.withKlWeight(4f).withFreeBits(0.5f));
    variants.put("L = 4 z samples", base.withSamples(4));
    for (var v : variants.entrySet()) {
        var run = Trainer.fit(vae, FashionMnist.bundledTrain(), FashionMnist.bundledTest(), v.getValue(), TrainingListener.NONE);
        var s = run.history().get(run.history().size() - 1);
        IO.println("%-26s recon %.2f  KL %5.2f  active %d/8  KL per dim %s".formatted(v.getKey(), s.validationReconstruction(),
                s.validationKl(), s.activeUnits(), Arrays.toString(Arrays.stream(s.klPerDimension()).map(k -> Math.round(k * 10) / 10.0).toArray())));
        if (s.collapseWarning() != null) IO.println("  warning: " + s.collapseWarning());
    }
}
