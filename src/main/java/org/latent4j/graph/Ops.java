package org.latent4j.graph;

import org.latent4j.kernel.Shape;
import java.util.List;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Activations;
import org.latent4j.kernel.Conv2d;
import org.latent4j.kernel.ConvKernels;
import org.latent4j.kernel.ConvShape;
import org.latent4j.kernel.LayerKernels;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.PixelCnnKernels;
import org.latent4j.kernel.Reductions;
import org.latent4j.kernel.VMath;
import org.latent4j.kernel.VaeKernels;
import org.latent4j.kernel.VqKernels;

/**
 * The ops of the graph, each a record holding its attributes and its rules (see {@link Op}):
 * shape, forward, backward, buffers and state, in one place per op. Kernels are the free
 * functions of {@code org.latent4j.kernel}; an op only says which to call on which buffers.
 */
public final class Ops {
    private Ops() {}

    // ------------------------------------------------------------------ helpers shared by the rules

    /** dst[i] += src[i] for i < n. */
    static void addTo(float[] dst, float[] src, int n) {
        for (int i = 0; i < n; i++) {
            dst[i] += src[i];
        }
    }

    /**
     * Where a rule that can only overwrite writes input k's gradient: the gradient itself, or
     * scratch(k) when it must be added ({@link #finishGradient} adds it then).
     */
    static float[] gradientTarget(OpContext c, Node n, int k) {
        return c.accumulate(k) ? c.scratch(k) : c.gradient(n.input(k));
    }

    /** Adds the scratch of {@link #gradientTarget} to input k's gradient when it had to be added. */
    static void finishGradient(OpContext c, Node n, int k, int count) {
        if (c.accumulate(k)) {
            addTo(c.gradient(n.input(k)), c.scratch(k), count);
        }
    }

    static int inWidth(OpContext c, Node n, int k) {
        return c.node(n.input(k)).width();
    }

    /** Backward of an op whose value is its input 0's (or, for straight-through, stands in for it): dx0 (+)= dy. */
    static void passGradient(Node n, OpContext c) {
        int count = c.batch() * n.width();
        if (c.accumulate(0)) {
            addTo(c.gradient(n.input(0)), c.gradient(n.id()), count);
        } else {
            System.arraycopy(c.gradient(n.id()), 0, c.gradient(n.input(0)), 0, count);
        }
    }

    static Shape one(List<Shape> inputs) {
        return inputs.get(0);
    }

    static Shape features(String name, Shape s) {
        if (s.spatial()) {
            throw new IllegalArgumentException(name + " takes a feature vector but its input is " + s + " (put flatten() before it)");
        }
        return s;
    }

    /** Checks that a loss's prediction and target have the same shape. */
    static Shape lossShape(List<Shape> inputs) {
        Shape a = inputs.get(0), b = inputs.get(1);
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("decoder output has " + a.size() + " features but the input has " + b.size());
        }
        return Shape.features(1);
    }

    static void vectorParam(String name, ParamSpec p, int expected, String what) {
        if (p.rows() != expected || p.cols() != 1) {
            throw new IllegalArgumentException(name + ": " + p.name() + " has " + p.rows() + " entries but " + what + " has " + expected);
        }
    }

    // ------------------------------------------------------------------ data

    /** The data batch (or the condition): its shape is given. */
    public record Input(Shape given) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return given;
        }

        @Override
        public boolean takesGradient(int input) {
            return false;
        }

        @Override
        public void forward(Node node, OpContext c) {
            throw new IllegalStateException("an input is loaded, not computed");
        }

        @Override
        public void backward(Node node, OpContext c) {
            throw new IllegalStateException("an input has no backward rule");
        }
    }

    // ------------------------------------------------------------------ dense layers

    /** x W^T for a weight W of shape (out, in): (B, in) -> (B, out). */
    public record MatMul() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return denseShape(name, inputs, params.get(0));
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            int in = inWidth(c, n, 0), out = n.width();
            c.gemm().gemm(c.value(n.id()), 0, out, false, true, c.batch(), out, in, 1f, c.value(n.input(0)), 0, in,
                    c.params(), c.paramOffset(0), in, 0f);
        }

        @Override
        public void backward(Node n, OpContext c) {
            weightAndInputGradients(n, c, c.gradient(n.id()));
        }
    }

    static Shape denseShape(String name, List<Shape> inputs, ParamSpec w) {
        Shape x = features(name, inputs.get(0));
        if (w.cols() != x.size()) {
            throw new IllegalArgumentException(name + ": weight " + w.name() + " takes " + w.cols() + " features but its input has " + x.size());
        }
        return Shape.features(w.rows());
    }

    /** dW (+)= dy^T x and dx (+)= dy W for the node's first parameter W (out, in). */
    static void weightAndInputGradients(Node n, OpContext c, float[] dy) {
        int x = n.input(0), in = inWidth(c, n, 0), out = n.width(), batch = c.batch();
        c.gemm().gemm(c.gradients(), c.paramOffset(0), in, true, false, out, in, batch, 1f, dy, 0, out, c.value(x), 0, in,
                c.accumulateParam(0) ? 1f : 0f);
        if (c.needsGradient(0)) {
            c.gemm().gemm(c.gradient(x), 0, in, false, false, batch, in, out, 1f, dy, 0, out, c.params(), c.paramOffset(0), in,
                    c.accumulate(0) ? 1f : 0f);
        }
    }

    /** x + b, b of shape (features). */
    public record BiasAdd() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = features(name, inputs.get(0));
            vectorParam(name, params.get(0), x.size(), "its input");
            return x;
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            Activations.biasForward(Activation.IDENTITY, 0f, c.value(n.id()), 0, c.value(n.input(0)), 0, c.params(), c.paramOffset(0),
                    c.batch(), n.width());
        }

        @Override
        public void backward(Node n, OpContext c) {
            float[] dy = c.gradient(n.id());
            int count = c.batch() * n.width();
            Reductions.colSums(c.gradients(), c.paramOffset(0), dy, 0, c.batch(), n.width(), c.accumulateParam(0));
            if (c.needsGradient(0)) {
                if (c.accumulate(0)) {
                    addTo(c.gradient(n.input(0)), dy, count);
                } else {
                    System.arraycopy(dy, 0, c.gradient(n.input(0)), 0, count);
                }
            }
        }
    }

    /** An element-wise activation with its parameter (see {@link Activation}). */
    public record Activate(Activation activation, float parameter) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return one(inputs);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            if (c.batch() == 1 && c.gemv() != null) {   // one row at inference: the scalar twin in a fresh JVM
                org.latent4j.kernel.ScalarKernels.forwardInference(activation, parameter, c.value(n.id()), 0, c.value(n.input(0)), 0, n.width());
            } else {
                Activations.forward(activation, parameter, c.value(n.id()), 0, c.value(n.input(0)), 0, c.batch() * n.width());
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int count = c.batch() * n.width();
            Activations.backward(activation, parameter, gradientTarget(c, n, 0), 0, c.gradient(n.id()), 0, c.value(n.id()), 0, count);
            finishGradient(c, n, 0, count);
        }
    }

    /**
     * Fused {@code act(x W^T + b)} ({@link Graph#fuse()} makes it of MatMul, BiasAdd and an
     * optional Activate). Parameters: W (out, in), b (out).
     */
    public record Dense(Activation activation, float parameter) implements Op {
        private static final int BIAS_ACTIVATION = 0, ACTIVATION_BACKWARD = 1;

        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape y = denseShape(name, inputs, params.get(0));
            ParamSpec b = params.get(1);
            if (b.rows() != y.size()) {
                throw new IllegalArgumentException(name + ": bias has " + b.rows() + " entries but the layer has " + y.size() + " outputs");
            }
            return y;
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            int in = inWidth(c, n, 0), out = n.width(), batch = c.batch();
            float[] x = c.value(n.input(0)), y = c.value(n.id());
            if (batch == 1 && c.gemv() != null && !org.latent4j.kernel.VectorWarmUp.ready()) {
                // A fresh JVM: the scalar twin until the vector kernels are compiled (same bits, no packing yet).
                org.latent4j.kernel.ScalarKernels.dense(y, 0, x, 0, in, out, 1f, c.params(), c.paramOffset(0), c.weightsBf16(),
                        c.params(), c.paramOffset(1), activation, parameter);
                return;
            }
            float[] packed = c.packedWeight(0, in, out);
            org.latent4j.kernel.Gemv gemv = batch == 1 && packed != null ? c.gemv() : null;
            if (gemv != null) {   // one row: bias and activation fused, bitwise the GEMM's result with float weights
                gemv.dense(y, 0, x, 0, in, out, 1f, packed, c.packedWeightBf16(0, in, out), 0, c.params(), c.paramOffset(1),
                        activation, parameter);
                return;
            }
            if (packed != null) {
                c.gemm().gemmPacked(y, 0, out, false, batch, out, in, 1f, x, 0, in, packed, 0f);
            } else {
                c.gemm().gemm(y, 0, out, false, true, batch, out, in, 1f, x, 0, in, c.params(), c.paramOffset(0), in, 0f);
            }
            c.forRows(BIAS_ACTIVATION, batch, out);
        }

        @Override
        public void rowShare(Node n, OpContext c, int part, int r0, int r1) {
            int w = n.width();
            float[] y = c.value(n.id());
            if (part == BIAS_ACTIVATION) {
                Activations.biasForward(activation, parameter, y, r0 * w, y, r0 * w, c.params(), c.paramOffset(1), r1 - r0, w);
            } else {
                float[] dy = c.gradient(n.id());
                Activations.backward(activation, parameter, dy, r0 * w, dy, r0 * w, y, r0 * w, (r1 - r0) * w);
            }
        }

        /** dz = act'(y) * dy (in place); db = column sums of dz; dW = dz^T x; dx (+)= dz W. */
        @Override
        public void backward(Node n, OpContext c) {
            int out = n.width(), batch = c.batch();
            float[] dy = c.gradient(n.id());
            c.forRows(ACTIVATION_BACKWARD, batch, out);
            Reductions.colSums(c.gradients(), c.paramOffset(1), dy, 0, batch, out, c.accumulateParam(1));
            weightAndInputGradients(n, c, dy);
        }
    }

    // ------------------------------------------------------------------ the Gaussian latent

    /**
     * z = mu + exp(logvar / 2) eps, eps ~ N(0, I) from the counter-based generator (element i of
     * the batch is Philox(seed, stream, i)); kept in the buffer "eps" for the backward rule. The
     * backward rule also applies the gradient of the KL term of the same mean and log-variance
     * (the {@link GaussianKl} node beside it only gives the value): one pass over the latent, and
     * the same bits fused or not.
     */
    public record Reparameterize() implements Op {
    @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return meanAndLogVariance(name, inputs);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            return List.of(Buffer.floatsPerSample("eps", node.width()));
        }

        @Override
        public void forward(Node n, OpContext c) {
            float[] eps = c.floats(0);
            int count = c.batch() * n.width();
            Philox.fillNormal(eps, 0, count, c.seed(), c.stream(), 0);
            VaeKernels.reparameterize(c.value(n.id()), c.value(n.input(0)), c.value(n.input(1)), eps, count);
        }

        @Override
        public void backward(Node n, OpContext c) {
            int mu = n.input(0), lv = n.input(1), count = c.batch() * n.width();
            boolean direct = c.needsGradient(0) && c.needsGradient(1) && !c.accumulate(0) && !c.accumulate(1);
            float[] dmu = direct ? c.gradient(mu) : c.scratch(0), dlv = direct ? c.gradient(lv) : c.scratch(1);
            float[] dims = c.klDimensionWeights();
            float klScale = dims == null ? c.klScale() : 0f;
            VaeKernels.reparameterizeKlBackward(dmu, dlv, c.gradient(n.id()), c.value(mu), c.value(lv), c.floats(0), klScale, count);
            if (dims != null) {
                VaeKernels.klBackwardByDimension(dmu, dlv, c.value(mu), c.value(lv), dims, c.lossScale(), c.batch(), n.width());
            }
            if (!direct) {
                for (int k = 0; k < 2; k++) {
                    if (c.needsGradient(k)) {
                        if (c.accumulate(k)) {
                            addTo(c.gradient(n.input(k)), c.scratch(k), count);
                        } else {
                            System.arraycopy(c.scratch(k), 0, c.gradient(n.input(k)), 0, count);
                        }
                    }
                }
            }
        }
    }

    static Shape meanAndLogVariance(String name, List<Shape> inputs) {
        int a = inputs.get(0).size(), b = inputs.get(1).size();
        if (a != b) {
            throw new IllegalArgumentException(name + ": mean has " + a + " dimensions but log-variance has " + b);
        }
        return features(name, inputs.get(0));
    }

    /**
     * Per-sample KL(N(mu, exp(logvar)) || N(0, I)): (B, Z) x (B, Z) -> (B). A term of the
     * objective whose gradient the {@link Reparameterize} node of the same inputs applies (the
     * graph always builds the two together), so it takes none itself.
     */
    public record GaussianKl() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            meanAndLogVariance(name, inputs);
            return Shape.features(1);
        }

        @Override
        public boolean takesGradient(int input) {
            return false;
        }

        @Override
        public Term term() {
            return Term.KL;
        }

        @Override
        public void forward(Node n, OpContext c) {
            VaeKernels.gaussianKl(c.value(n.id()), c.value(n.input(0)), c.value(n.input(1)), c.batch(), inWidth(c, n, 0));
        }

        @Override
        public void backward(Node n, OpContext c) {
            throw new IllegalStateException(n.name() + ": the KL's gradient is applied by the reparameterization");
        }
    }

    // ------------------------------------------------------------------ reconstruction losses

    /**
     * A reconstruction loss: the per-sample -log p(x | decoder output) of input 0 (the decoder's
     * output) against input 1 (the data, which takes no gradient): (B, D) x (B, D) -> (B).
     */
    public sealed interface ReconstructionLoss extends Op permits BernoulliNll, GaussianNll, HuberLoss {
        @Override
        default Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return lossShape(inputs);
        }

        @Override
        default boolean takesGradient(int input) {
            return input == 0;
        }

        @Override
        default Term term() {
            return Term.RECONSTRUCTION;
        }
    }

    /** Per-sample -log p(x | logits) under a Bernoulli: (B, D) logits x (B, D) data -> (B). */
    public record BernoulliNll() implements ReconstructionLoss {

        @Override
        public void forward(Node n, OpContext c) {
            c.forRows(0, c.batch(), inWidth(c, n, 0));
        }

        @Override
        public void rowShare(Node n, OpContext c, int part, int r0, int r1) {
            int w = inWidth(c, n, 0);
            float[] logits = c.value(n.input(0)), x = c.value(n.input(1)), loss = c.value(n.id());
            for (int r = r0; r < r1; r++) {
                loss[r] = VMath.bceRowSum(logits, x, r * w, w);
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int out = n.input(0), count = c.batch() * inWidth(c, n, 0);
            VaeKernels.bceWithLogitsBackward(gradientTarget(c, n, 0), c.value(out), c.value(n.input(1)), c.lossScale(), count);
            finishGradient(c, n, 0, count);
        }
    }

    private static final float LOG_2PI = (float) StrictMath.log(2 * Math.PI);

    /**
     * Per-sample -log N(x | mean, var) summed over features: var fixed ({@code variance}) when the
     * node has no parameter, else exp of the learned log-variance parameter (one per feature, or
     * one for all).
     */
    public record GaussianNll(float variance) implements ReconstructionLoss {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape s = lossShape(inputs);
            int a = inputs.get(0).size();
            if (!params.isEmpty() && params.get(0).rows() != a && params.get(0).rows() != 1) {
                throw new IllegalArgumentException(name + ": learned variance has " + params.get(0).rows() + " entries but the output has "
                        + a + " features");
            }
            return s;
        }

        @Override
        public void forward(Node n, OpContext c) {
            int d = inWidth(c, n, 0), batch = c.batch();
            float[] mean = c.value(n.input(0)), x = c.value(n.input(1)), loss = c.value(n.id());
            if (n.params().isEmpty()) {
                VaeKernels.squaredError(loss, mean, x, batch, d);
                float cst = 0.5f * d * (float) StrictMath.log(2 * Math.PI * variance);
                for (int r = 0; r < batch; r++) {
                    loss[r] = loss[r] / (2f * variance) + cst;
                }
                return;
            }
            float[] p = c.params();
            int lo = c.paramOffset(0), stride = c.paramSpec(0).rows() == 1 ? 0 : 1;
            for (int r = 0; r < batch; r++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    float diff = mean[r * d + j] - x[r * d + j];
                    float lv = p[lo + j * stride];
                    s += 0.5 * (diff * diff * StrictMath.exp(-lv) + lv + LOG_2PI);
                }
                loss[r] = (float) s;
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int d = inWidth(c, n, 0), batch = c.batch(), count = batch * d;
            float[] mean = c.value(n.input(0)), x = c.value(n.input(1));
            float invB = c.lossScale();
            if (n.params().isEmpty()) {
                VaeKernels.squaredErrorBackward(gradientTarget(c, n, 0), mean, x, invB / (2f * variance), count);
                finishGradient(c, n, 0, count);
                return;
            }
            float[] p = c.params(), grads = c.gradients();
            int lo = c.paramOffset(0), stride = c.paramSpec(0).rows() == 1 ? 0 : 1;
            if (!c.accumulateParam(0)) {
                java.util.Arrays.fill(grads, lo, lo + c.paramSpec(0).size(), 0f);
            }
            boolean needs = c.needsGradient(0), acc = c.accumulate(0);
            float[] g = needs ? c.gradient(n.input(0)) : null;
            for (int r = 0; r < batch; r++) {
                for (int j = 0; j < d; j++) {
                    float diff = mean[r * d + j] - x[r * d + j];
                    float prec = (float) StrictMath.exp(-p[lo + j * stride]);
                    if (needs) {
                        float v = diff * prec * invB;
                        g[r * d + j] = acc ? g[r * d + j] + v : v;
                    }
                    grads[lo + j * stride] += 0.5f * (1f - diff * diff * prec) * invB;
                }
            }
        }
    }

    /** Per-sample Huber loss of (output - input) with threshold {@code delta}: (B, D) x (B, D) -> (B). */
    public record HuberLoss(float delta) implements ReconstructionLoss {

        @Override
        public void forward(Node n, OpContext c) {
            LayerKernels.huberForward(c.value(n.id()), c.value(n.input(0)), c.value(n.input(1)), delta, c.batch(), inWidth(c, n, 0));
        }

        @Override
        public void backward(Node n, OpContext c) {
            int out = n.input(0), count = c.batch() * inWidth(c, n, 0);
            LayerKernels.huberBackward(gradientTarget(c, n, 0), c.value(out), c.value(n.input(1)), delta, c.lossScale(), count);
            finishGradient(c, n, 0, count);
        }
    }

    // ------------------------------------------------------------------ structure

    /** Joins its inputs feature-wise: (B, a) x (B, c) -> (B, a + c) (a condition joined to x or to z). */
    public record Concat() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            long w = 0;
            for (Shape s : inputs) {
                w += features(name, s).size();
            }
            if (w > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException(name + ": " + w + " features are too many");
            }
            return Shape.features((int) w);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            int w = n.width(), from = 0, batch = c.batch();
            float[] y = c.value(n.id());
            for (int k = 0; k < n.inputs().size(); k++) {
                int wi = inWidth(c, n, k);
                float[] x = c.value(n.input(k));
                for (int r = 0; r < batch; r++) {
                    System.arraycopy(x, r * wi, y, r * w + from, wi);
                }
                from += wi;
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int w = n.width(), from = 0, batch = c.batch();
            float[] dy = c.gradient(n.id());
            for (int k = 0; k < n.inputs().size(); k++) {   // indexed: no iterator per step
                int wi = inWidth(c, n, k);
                if (c.needsGradient(k)) {
                    float[] dx = c.gradient(n.input(k));
                    boolean acc = c.accumulate(k);
                    for (int r = 0; r < batch; r++) {
                        for (int j = 0; j < wi; j++) {
                            float v = dy[r * w + from + j];
                            dx[r * wi + j] = acc ? dx[r * wi + j] + v : v;
                        }
                    }
                }
                from += wi;
            }
        }
    }

    /**
     * An image joined with a feature vector spread over its planes: input 0 of shape (c, h, w) and
     * input 1 of k features give (c + k, h, w), channels first, where channel c + j holds feature j
     * at every pixel (a conditional convolutional model's input joined with its condition, as
     * {@code torch.cat([x, cond[:, :, None, None].expand(-1, -1, h, w)], dim=1)}). Backward: the
     * image's gradient is its channels' part of dy; feature j's gradient is the sum of dy over
     * plane c + j.
     */
    public record ConcatPlanes() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = inputs.get(0), v = inputs.get(1);
            if (!x.spatial()) {
                throw new IllegalArgumentException(name + " joins an image (channels x height x width) with a vector, but its first input is " + x);
            }
            features(name, v);
            if ((long) x.channels() + v.size() > Integer.MAX_VALUE / Math.max(1, x.height() * x.width())) {
                throw new IllegalArgumentException(name + ": " + x + " with " + v.size() + " more channels is too large");
            }
            return Shape.image(x.channels() + v.size(), x.height(), x.width());
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            int w = n.width(), wx = inWidth(c, n, 0), k = inWidth(c, n, 1), plane = c.node(n.input(0)).shape().height()
                    * c.node(n.input(0)).shape().width(), batch = c.batch();
            float[] y = c.value(n.id()), x = c.value(n.input(0)), v = c.value(n.input(1));
            for (int r = 0; r < batch; r++) {
                System.arraycopy(x, r * wx, y, r * w, wx);
                for (int j = 0; j < k; j++) {
                    int at = r * w + wx + j * plane;
                    java.util.Arrays.fill(y, at, at + plane, v[r * k + j]);
                }
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int w = n.width(), wx = inWidth(c, n, 0), k = inWidth(c, n, 1), plane = c.node(n.input(0)).shape().height()
                    * c.node(n.input(0)).shape().width(), batch = c.batch();
            float[] dy = c.gradient(n.id());
            if (c.needsGradient(0)) {
                float[] dx = c.gradient(n.input(0));
                boolean acc = c.accumulate(0);
                for (int r = 0; r < batch; r++) {
                    for (int q = 0; q < wx; q++) {
                        float g = dy[r * w + q];
                        dx[r * wx + q] = acc ? dx[r * wx + q] + g : g;
                    }
                }
            }
            if (c.needsGradient(1)) {
                float[] dv = c.gradient(n.input(1));
                boolean acc = c.accumulate(1);
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < k; j++) {
                        int at = r * w + wx + j * plane;
                        double sum = 0;
                        for (int q = 0; q < plane; q++) {
                            sum += dy[at + q];
                        }
                        dv[r * k + j] = acc ? dv[r * k + j] + (float) sum : (float) sum;
                    }
                }
            }
        }
    }

    /** Its input's value, through which no gradient flows back (the stop-gradient sg(x)). */
    public record StopGradient() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return one(inputs);
        }

        @Override
        public boolean takesGradient(int input) {
            return false;
        }

        @Override
        public void forward(Node n, OpContext c) {
            System.arraycopy(c.value(n.input(0)), 0, c.value(n.id()), 0, c.batch() * n.width());
        }

        @Override
        public void backward(Node n, OpContext c) {
            throw new IllegalStateException(n.name() + ": no gradient flows through a stop-gradient");
        }
    }

    // ------------------------------------------------------------------ training noise

    /** The kinds of training noise. */
    public enum NoiseKind { GAUSSIAN, MASKING, SALT_AND_PEPPER, DROPOUT }

    /**
     * Training-only noise: GAUSSIAN adds N(0, amount^2); MASKING zeroes with probability amount;
     * SALT_AND_PEPPER sets to 0 or 1 with probability amount; DROPOUT zeroes with probability
     * amount and scales the rest by 1 / (1 - amount). Identity at inference. Element i of the
     * batch draws Philox(seed, stream, streamStart + i); the noise (or mask) is kept in the
     * buffer "noise" for the backward rule.
     */
    public record Noise(NoiseKind kind, float amount, long streamStart) implements Op {
        /** Where the k-th noise layer of a model (from 0) starts in its step's stream (the reparameterization takes 0...). */
        public static long streamStart(int k) {
            return (long) (k + 1) << 40;
        }

        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return one(inputs);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            return training ? List.of(Buffer.floatsPerSample("noise", node.width())) : List.of();
        }

        @Override
        public void forward(Node n, OpContext c) {
            int count = c.batch() * n.width();
            float[] x = c.value(n.input(0)), y = c.value(n.id());
            if (!c.training()) {
                System.arraycopy(x, 0, y, 0, count);
                return;
            }
            float[] aux = c.floats(0);
            switch (kind) {
                case GAUSSIAN -> {
                    Philox.fillNormal(aux, 0, count, c.seed(), c.stream(), streamStart);
                    LayerKernels.gaussianNoiseForward(y, x, aux, amount, count);
                }
                case MASKING, DROPOUT -> {
                    Philox.fillUniform(aux, 0, count, c.seed(), c.stream(), streamStart);
                    LayerKernels.maskForward(y, x, aux, amount, kind == NoiseKind.DROPOUT ? 1f / (1f - amount) : 1f, count);
                }
                case SALT_AND_PEPPER -> {
                    Philox.fillUniform(aux, 0, count, c.seed(), c.stream(), streamStart);
                    LayerKernels.saltAndPepperForward(y, x, aux, amount, count);
                }
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int count = c.batch() * n.width();
            float[] dx = c.gradient(n.input(0)), dy = c.gradient(n.id());
            switch (kind) {
                case GAUSSIAN -> LayerKernels.passBackward(dx, dy, c.accumulate(0), count);
                case MASKING, DROPOUT, SALT_AND_PEPPER -> LayerKernels.maskBackward(dx, dy, c.floats(0), c.accumulate(0), count);
            }
        }
    }

    /** Its input clamped to [min, max] (a latent log-variance); zero gradient outside. */
    public record Clamp(float min, float max) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return one(inputs);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            LayerKernels.clampForward(c.value(n.id()), c.value(n.input(0)), min, max, c.batch() * n.width());
        }

        @Override
        public void backward(Node n, OpContext c) {
            int count = c.batch() * n.width();
            LayerKernels.clampBackward(gradientTarget(c, n, 0), c.gradient(n.id()), c.value(n.input(0)), min, max, count);
            finishGradient(c, n, 0, count);
        }
    }

    // ------------------------------------------------------------------ penalties

    /** A penalty on its input's values, a per-sample term of the objective (not of the -ELBO): (B, H) -> (B). */
    public sealed interface Penalty extends Op permits SparsityKl, ActivityL1, Contractive, QuantizationLoss {
        @Override
        default Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return Shape.features(1);
        }

        @Override
        default boolean takesGradient(int input) {
            return true;
        }

        @Override
        default Term term() {
            return Term.PENALTY;
        }
    }

    /** Sparsity penalty weight * sum_j KL(rho || batch mean of unit j), the same value in every row: (B, H) -> (B). */
    public record SparsityKl(float rho, float weight) implements Penalty {

        @Override
        public void forward(Node n, OpContext c) {
            LayerKernels.sparsityForward(c.value(n.id()), c.value(n.input(0)), c.scratchDoubles(0), rho, weight, c.batch(), inWidth(c, n, 0));
        }

        @Override
        public void backward(Node n, OpContext c) {
            LayerKernels.sparsityBackward(c.gradient(n.input(0)), c.value(n.input(0)), c.scratchDoubles(0), rho, weight, c.accumulate(0),
                    c.batch(), inWidth(c, n, 0));
        }
    }

    /** Activity penalty weight * sum_j |h_j| per sample: (B, H) -> (B). */
    public record ActivityL1(float weight) implements Penalty {

        @Override
        public void forward(Node n, OpContext c) {
            LayerKernels.activityL1Forward(c.value(n.id()), c.value(n.input(0)), weight, c.batch(), inWidth(c, n, 0));
        }

        @Override
        public void backward(Node n, OpContext c) {
            LayerKernels.activityL1Backward(c.gradient(n.input(0)), c.value(n.input(0)), weight * c.lossScale(), c.accumulate(0),
                    c.batch() * inWidth(c, n, 0));
        }
    }

    /**
     * Contractive penalty weight * sum_j act'(h_j)^2 ||W_j||^2 per sample on the code node
     * h = act(W a + b): (B, Z) -> (B). Its parameter is the code layer's weight W, shared with
     * that layer: the weight's own term is added to W's gradient beside the layer's.
     */
    public record Contractive(float weight, Activation activation) implements Penalty {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            ParamSpec w = params.get(0);
            if (w.rows() != inputs.get(0).size()) {
                throw new IllegalArgumentException(name + ": weight " + w.name() + " has " + w.rows() + " rows but the code has "
                        + inputs.get(0).size() + " units");
            }
            return Shape.features(1);
        }

        @Override
        public void forward(Node n, OpContext c) {
            ParamSpec w = c.paramSpec(0);
            int units = inWidth(c, n, 0);
            double[] norms = c.scratchDoubles(0);
            LayerKernels.rowNormsSquared(norms, c.params(), c.paramOffset(0), units, w.cols());
            LayerKernels.contractiveForward(c.value(n.id()), c.value(n.input(0)), norms, activation, weight, c.batch(), units);
        }

        @Override
        public void backward(Node n, OpContext c) {
            ParamSpec w = c.paramSpec(0);
            int units = inWidth(c, n, 0), off = c.paramOffset(0);
            float[] h = c.value(n.input(0));
            double[] norms = c.scratchDoubles(0);
            if (c.needsGradient(0)) {
                LayerKernels.rowNormsSquared(norms, c.params(), off, units, w.cols());
                LayerKernels.contractiveBackward(c.gradient(n.input(0)), h, norms, activation, weight * c.lossScale(), c.accumulate(0),
                        c.batch(), units);
            }
            if (!c.accumulateParam(0)) {
                java.util.Arrays.fill(c.gradients(), off, off + w.size(), 0f);
            }
            LayerKernels.contractiveWeightBackward(c.gradients(), off, c.params(), off, h, norms, activation, weight, c.batch(), units, w.cols());
        }
    }

    // ------------------------------------------------------------------ batch normalization

    /**
     * Batch normalization with a learned scale and shift (parameters gamma, beta, then the state
     * running_mean, running_var): by the batch's mean and biased variance in a training plan
     * (kept in the buffers mean, var, invStd for the backward rule and the state update), by the
     * running ones at inference. State update after an applied step: running = (1 - momentum)
     * running + momentum batch (the unbiased batch variance for the variance).
     */
    public record BatchNormalize(float momentum, float epsilon) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = inputs.get(0);
            for (ParamSpec p : params) {
                vectorParam(name, p, x.channels(), x.spatial() ? "its input's channel count" : "its input");
            }
            return x;
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            int w = node.width();
            int ch = node.shape().channels();
            return List.of(Buffer.doubles("mean", ch, training), Buffer.doubles("var", ch, training), Buffer.doubles("invStd", ch, training));
        }

        @Override
        public void forward(Node n, OpContext c) {
            Shape sh = n.shape();
            int w = sh.channels(), plane = sh.height() * sh.width(), batch = c.batch();
            float[] x = c.value(n.input(0)), p = c.params();
            double[] mean = c.doubles(0), var = c.doubles(1), invStd = c.doubles(2);
            if (c.training()) {
                if (batch * plane < 2) {
                    throw new IllegalArgumentException(n.name() + ": batch normalization needs at least 2 rows per training batch, got " + batch);
                }
                if (sh.spatial()) {
                    ConvKernels.channelStatistics(mean, var, x, 0, batch, w, plane);
                } else {
                    LayerKernels.batchStatistics(mean, var, x, batch, w);
                }
            } else {
                int mo = c.paramOffset(2), vo = c.paramOffset(3);
                for (int j = 0; j < w; j++) {
                    mean[j] = p[mo + j];
                    var[j] = p[vo + j];
                }
            }
            LayerKernels.inverseStd(invStd, var, epsilon, w);
            if (sh.spatial()) {
                ConvKernels.channelNormForward(c.value(n.id()), 0, x, 0, mean, invStd, p, c.paramOffset(0), c.paramOffset(1), c.scratch(0),
                        c.scratch(1), batch, w, plane);
            } else {
                LayerKernels.batchNormForward(c.value(n.id()), x, mean, invStd, p, c.paramOffset(0), c.paramOffset(1), c.scratch(0),
                        c.scratch(1), batch, w);
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int in = n.input(0);
            Shape sh = n.shape();
            float[] dx = c.needsGradient(0) ? c.gradient(in) : null;
            if (sh.spatial()) {
                ConvKernels.channelNormBackward(dx, 0, c.accumulate(0), c.gradients(), c.gradient(n.id()), 0, c.value(in), 0, c.doubles(0),
                        c.doubles(2), c.params(), c.paramOffset(0), c.paramOffset(1), c.scratchDoubles(0), c.scratchDoubles(1), c.batch(),
                        sh.channels(), sh.height() * sh.width());
            } else {
                LayerKernels.batchNormBackward(dx, c.accumulate(0), c.gradients(), c.gradient(n.id()), c.value(in), c.doubles(0), c.doubles(2),
                        c.params(), c.paramOffset(0), c.paramOffset(1), c.scratchDoubles(0), c.scratchDoubles(1), c.batch(), n.width());
            }
        }

        @Override
        public boolean hasState() {
            return true;
        }

        @Override
        public void updateState(Node n, OpContext c) {
            Shape sh = n.shape();
            LayerKernels.batchNormRunningUpdate(c.params(), c.paramOffset(2), c.paramOffset(3), c.doubles(0), c.doubles(1), momentum,
                    c.batch() * sh.height() * sh.width(), sh.channels());
        }
    }

    // ------------------------------------------------------------------ images

    /**
     * A 2-D convolution or transposed convolution ({@code geometry.transposed()}) with its bias,
     * on images stored channels first (see {@link Conv2d}): parameters weight ((out, in, k, k),
     * or (in, out, k, k) when transposed) and bias (out).
     */
    public record Conv(ConvShape geometry) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = inputs.get(0);
            ConvShape g = geometry;
            if (!x.spatial() || x.channels() != g.inChannels() || x.height() != g.inHeight() || x.width() != g.inWidth()) {
                throw new IllegalArgumentException(name + " takes " + g.inChannels() + "x" + g.inHeight() + "x" + g.inWidth() + " input, got " + x);
            }
            if (params.get(0).size() != g.weightSize()) {
                throw new IllegalArgumentException(name + ": weight " + params.get(0).name() + " has " + params.get(0).size() + " values but "
                        + g + " needs " + g.weightSize());
            }
            vectorParam(name, params.get(1), g.outChannels(), "the layer's output channels");
            return Shape.image(g.outChannels(), g.outHeight(), g.outWidth());
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public long stepScratchFloats(Node node, List<Shape> inputs, int maxBatch, int threads) {
            return Conv2d.scratchSize(geometry, maxBatch, threads);
        }

        @Override
        public void forward(Node n, OpContext c) {
            c.conv().forward(c.value(n.id()), 0, c.value(n.input(0)), 0, c.params(), c.paramOffset(0), c.params(), c.paramOffset(1), geometry,
                    c.batch(), c.stepScratch());
        }

        /** dW and db overwritten (a convolution's weight is its own); dx (+)= the data gradient. */
        @Override
        public void backward(Node n, OpContext c) {
            if (c.accumulateParam(0) || c.accumulateParam(1)) {
                throw new IllegalStateException(n.name() + ": a convolution's weight shared with another layer is not supported");
            }
            float[] dy = c.gradient(n.id());
            c.conv().backwardWeights(c.gradients(), c.paramOffset(0), c.gradients(), c.paramOffset(1), c.value(n.input(0)), 0, dy, 0, geometry,
                    c.batch(), c.stepScratch());
            if (c.needsGradient(0)) {
                c.conv().backwardData(c.gradient(n.input(0)), 0, c.accumulate(0), dy, 0, c.params(), c.paramOffset(0), geometry, c.batch(),
                        c.stepScratch());
            }
        }
    }

    /** Max ({@code max}) or average pooling of each channel in kernel x kernel windows moved by stride; max keeps its argmax for backward. */
    public record Pool(boolean max, int kernel, int stride) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return inputs.get(0).pooled(name, kernel, stride);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            return max ? List.of(Buffer.intsPerSample("argmax", node.width())) : List.of();
        }

        @Override
        public void forward(Node n, OpContext c) {
            Shape x = c.node(n.input(0)).shape();
            if (max) {
                ConvKernels.maxPoolForward(c.value(n.id()), 0, c.ints(0), 0, c.value(n.input(0)), 0, c.batch(), x.channels(), x.height(),
                        x.width(), kernel, stride);
            } else {
                ConvKernels.avgPoolForward(c.value(n.id()), 0, c.value(n.input(0)), 0, c.batch(), x.channels(), x.height(), x.width(), kernel,
                        stride);
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            Shape x = c.node(n.input(0)).shape();
            if (max) {
                ConvKernels.maxPoolBackward(c.gradient(n.input(0)), 0, c.accumulate(0), c.gradient(n.id()), 0, c.ints(0), 0, c.batch(),
                        x.channels(), x.height(), x.width(), kernel, stride);
            } else {
                ConvKernels.avgPoolBackward(c.gradient(n.input(0)), 0, c.accumulate(0), c.gradient(n.id()), 0, c.batch(), x.channels(),
                        x.height(), x.width(), kernel, stride);
            }
        }
    }

    /** Nearest-neighbour upsampling of each channel by {@code factor} per side. */
    public record Upsample(int factor) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return inputs.get(0).upsampled(name, factor);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            Shape x = c.node(n.input(0)).shape();
            ConvKernels.upsampleForward(c.value(n.id()), 0, c.value(n.input(0)), 0, c.batch(), x.channels(), x.height(), x.width(), factor);
        }

        @Override
        public void backward(Node n, OpContext c) {
            Shape x = c.node(n.input(0)).shape();
            ConvKernels.upsampleBackward(c.gradient(n.input(0)), 0, c.accumulate(0), c.gradient(n.id()), 0, c.batch(), x.channels(), x.height(),
                    x.width(), factor);
        }
    }

    /** The same values under another per-sample shape of the same size (flatten, reshape). */
    public record Reshape(Shape target) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            if (inputs.get(0).size() != target.size()) {
                throw new IllegalArgumentException(name + " needs " + target.size() + " values but its input " + inputs.get(0) + " has "
                        + inputs.get(0).size());
            }
            return target;
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            System.arraycopy(c.value(n.input(0)), 0, c.value(n.id()), 0, c.batch() * n.width());
        }

        @Override
        public void backward(Node n, OpContext c) {
            passGradient(n, c);
        }
    }

    /** The element-wise sum of two inputs of the same shape (a residual connection); both take the output's gradient. */
    public record Add() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            if (!inputs.get(0).equals(inputs.get(1))) {
                throw new IllegalArgumentException(name + " adds values of one shape, got " + inputs.get(0) + " and " + inputs.get(1));
            }
            return inputs.get(0);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            float[] a = c.value(n.input(0)), b = c.value(n.input(1)), y = c.value(n.id());
            int count = c.batch() * n.width();
            for (int i = 0; i < count; i++) {
                y[i] = a[i] + b[i];
            }
        }

        @Override
        public void backward(Node n, OpContext c) {
            int count = c.batch() * n.width();
            float[] dy = c.gradient(n.id());
            for (int k = 0; k < 2; k++) {
                if (c.needsGradient(k)) {
                    if (c.accumulate(k)) {
                        addTo(c.gradient(n.input(k)), dy, count);
                    } else {
                        System.arraycopy(dy, 0, c.gradient(n.input(k)), 0, count);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ discrete latents (VQ-VAE, FSQ)

    /** Positions of a code grid: height x width of an image-shaped value, 1 for a feature vector. */
    static int positions(Shape s) {
        return s.spatial() ? s.height() * s.width() : 1;
    }

    /** Vector channels of a code grid: the channels of an image-shaped value, the features of a vector. */
    static int codeChannels(Shape s) {
        return s.spatial() ? s.channels() : s.size();
    }

    /**
     * Vector quantization (van den Oord et al. 2017): each position's vector of its input (a stopped
     * z_e, channels first) replaced by its nearest code of the codebook, found as a GEMM plus the
     * codes' norms ({@link VqKernels#nearest}; by cosine similarity when {@code cosine}), ties to
     * the smaller index. Parameters: 0 quantizer.embedding.weight (K x D; trained by gradient, or
     * state when {@code ema}), 1 quantizer.cluster_size (K, state: the moving average of each
     * code's assignments per step), 2 quantizer.revived (1, state: codes re-seeded so far), and 3
     * quantizer.embed_avg (K x D, state, {@code ema} only). Backward: the codebook's gradient, the
     * output's gradient scattered to the chosen codes (no gradient to the input: the decoder's
     * reaches z_e through {@link StraightThrough}). State update after an applied step: the
     * moving averages (decay, Laplace smoothing {@code epsilon}) and, with {@code deadThreshold} >
     * 0, every code whose cluster size is below deadThreshold x the mean cluster size re-seeded
     * from a random row of the batch's encoder outputs (row floor(u N) for u = Philox(seed, step,
     * {@link #REVIVAL_STREAM} + k)) with its moving averages reset to the mean size (and the row
     * times it): deterministic for any thread count. With {@code kmeansIterations} > 0 the first
     * applied step (every cluster size still 0) initializes the codebook instead: codes drawn among
     * the batch's rows as a revival draws them, that many Lloyd iterations on the rows (a code left
     * without rows keeps its vector; with {@code cosine} the rows are assigned by cosine similarity
     * and a code moves to the mean of its rows), then cluster sizes = the final counts and averages
     * = the sums. With gradient updates a re-seeded code's optimizer moments are reset
     * ({@link OpContext#resetOptimizerState}), and the whole codebook's after a k-means start.
     */
    public record VectorQuantize(int codes, int dim, boolean cosine, boolean ema, float decay, float epsilon, float deadThreshold,
                                 int kmeansIterations) implements Op {
        /** Where the revival draws start in a step's random stream (far from the noise layers'). */
        public static final long REVIVAL_STREAM = 1L << 60;
        static final int ROWS = 0, INDEX = 1, SCORES = 2, NORMS = 3, SUMS = 4, COUNTS = 5, DRAWS = 6, UNIT_ROWS = 7, UNIT_CODES = 8;

        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = inputs.get(0);
            if (codeChannels(x) != dim) {
                throw new IllegalArgumentException(name + " takes " + dim + " channels per position but its input is " + x);
            }
            ParamSpec e = params.get(0);
            if (e.rows() != codes || e.cols() != dim) {
                throw new IllegalArgumentException(name + ": codebook " + e.name() + " is " + e.rows() + " x " + e.cols() + " but the quantizer has "
                        + codes + " codes of " + dim);
            }
            return x;
        }

        @Override
        public boolean takesGradient(int input) {
            return false;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            int p = positions(node.shape());
            List<Buffer> b = new java.util.ArrayList<>(List.of(
                    new Buffer("rows", Buffer.Type.FLOATS, p * dim, 0, training),
                    new Buffer("indices", Buffer.Type.INTS, p, 0, training),
                    new Buffer("scores", Buffer.Type.FLOATS, p * codes, 0, training && kmeansIterations > 0),
                    new Buffer("norms", Buffer.Type.FLOATS, 0, codes, false),
                    Buffer.doubles("sums", training ? codes * dim : 1, training),
                    Buffer.doubles("counts", training ? codes : 1, training),
                    new Buffer("draws", Buffer.Type.FLOATS, 0, training ? codes : 1, training)));
            if (cosine) {
                // the unit rows stay until the state update when a k-means start reads them
                b.add(new Buffer("unitRows", Buffer.Type.FLOATS, p * dim, 0, training && kmeansIterations > 0));
                b.add(new Buffer("unitCodes", Buffer.Type.FLOATS, 0, codes * dim, false));
            }
            return b;
        }

        @Override
        public void forward(Node n, OpContext c) {
            int p = positions(n.shape()), batch = c.batch(), rowsN = batch * p;
            float[] rows = c.floats(ROWS);
            int[] index = c.ints(INDEX);
            VqKernels.toRows(rows, c.value(n.input(0)), batch, dim, p);
            if (cosine) {
                float[] unitRows = c.floats(UNIT_ROWS), unitCodes = c.floats(UNIT_CODES);
                VqKernels.normalizeRows(unitRows, rows, 0, rowsN, dim);
                VqKernels.normalizeRows(unitCodes, c.params(), c.paramOffset(0), codes, dim);
                VqKernels.nearest(index, c.floats(SCORES), unitRows, rowsN, unitCodes, 0, null, codes, dim, c.gemm());
            } else {
                float[] norms = c.floats(NORMS);
                VqKernels.codeNorms(norms, c.params(), c.paramOffset(0), codes, dim);
                VqKernels.nearest(index, c.floats(SCORES), rows, rowsN, c.params(), c.paramOffset(0), norms, codes, dim, c.gemm());
            }
            VqKernels.gather(c.value(n.id()), index, c.params(), c.paramOffset(0), batch, dim, p);
        }

        /** The codebook's gradient (gradient updates only): dE[k] = sum of the output's gradient at the positions that chose k. */
        @Override
        public void backward(Node n, OpContext c) {
            VqKernels.scatterGradient(c.gradients(), c.paramOffset(0), c.accumulateParam(0), c.gradient(n.id()), c.ints(INDEX), c.batch(),
                    codes, dim, positions(n.shape()));
        }

        @Override
        public boolean hasState() {
            return true;
        }

        private boolean unused(float[] p, int size) {
            return unusedSizes(p, size, codes);
        }

        /** k-means on the batch's rows (serial after the GEMM, so the same bits for any thread count); see the record's doc. */
        private void kmeans(OpContext c, float[] p, int emb, int size, int avg, float[] rows, int rowsN, double[] counts, double[] sums) {
            float[] draws = c.floats(DRAWS), norms = c.floats(NORMS), scores = c.floats(SCORES);
            int[] index = c.ints(INDEX);
            org.latent4j.kernel.Philox.fillUniform(draws, 0, codes, c.seed(), c.stream(), REVIVAL_STREAM);
            for (int k = 0; k < codes; k++) {
                System.arraycopy(rows, Math.min((int) (draws[k] * rowsN), rowsN - 1) * dim, p, emb + k * dim, dim);
            }
            for (int it = 0; it <= kmeansIterations; it++) {
                if (cosine) {
                    // spherical assignment (as the forward's lookup), centroids the mean of the raw rows (as the moving averages)
                    float[] unitCodes = c.floats(UNIT_CODES);
                    VqKernels.normalizeRows(unitCodes, p, emb, codes, dim);
                    VqKernels.nearest(index, scores, c.floats(UNIT_ROWS), rowsN, unitCodes, 0, null, codes, dim, c.gemm());
                } else {
                    VqKernels.codeNorms(norms, p, emb, codes, dim);
                    VqKernels.nearest(index, scores, rows, rowsN, p, emb, norms, codes, dim, c.gemm());
                }
                VqKernels.assignmentSums(counts, sums, index, rows, rowsN, codes, dim);
                if (it == kmeansIterations) {
                    break;
                }
                for (int k = 0; k < codes; k++) {
                    if (counts[k] > 0) {
                        for (int j = 0; j < dim; j++) {
                            p[emb + k * dim + j] = (float) (sums[k * dim + j] / counts[k]);
                        }
                    }
                }
            }
            for (int k = 0; k < codes; k++) {
                p[size + k] = (float) counts[k];
                if (avg >= 0) {
                    for (int j = 0; j < dim; j++) {
                        p[avg + k * dim + j] = (float) sums[k * dim + j];
                    }
                }
            }
        }

        @Override
        public void updateState(Node n, OpContext c) {
            int rowsN = c.batch() * positions(n.shape());
            float[] p = c.params(), rows = c.floats(ROWS);
            double[] counts = c.doubles(COUNTS), sums = c.doubles(SUMS);
            int emb = c.paramOffset(0), size = c.paramOffset(1), revived = c.paramOffset(2), avg = ema ? c.paramOffset(3) : -1;
            if (kmeansIterations > 0 && unused(p, size)) {
                kmeans(c, p, emb, size, avg, rows, rowsN, counts, sums);
                if (!ema) {
                    c.resetOptimizerState(emb, codes * dim);   // the first step's moments belonged to the codes k-means replaced
                }
                return;
            }
            VqKernels.assignmentSums(counts, sums, c.ints(INDEX), rows, rowsN, codes, dim);
            VqKernels.movingAverages(p, size, avg, counts, sums, decay, codes, dim);
            if (deadThreshold > 0f) {
                double mean = 0;
                for (int k = 0; k < codes; k++) {
                    mean += p[size + k];
                }
                mean /= codes;
                double limit = deadThreshold * mean;
                float[] draws = c.floats(DRAWS);
                org.latent4j.kernel.Philox.fillUniform(draws, 0, codes, c.seed(), c.stream(), REVIVAL_STREAM);
                int count = 0;
                for (int k = 0; k < codes; k++) {
                    if (p[size + k] < limit) {
                        int r = Math.min((int) (draws[k] * rowsN), rowsN - 1);
                        System.arraycopy(rows, r * dim, p, emb + k * dim, dim);
                        p[size + k] = (float) mean;
                        if (!ema) {
                            c.resetOptimizerState(emb + k * dim, dim);   // a code trained by gradient starts its moments afresh
                        }
                        if (ema) {
                            for (int j = 0; j < dim; j++) {
                                p[avg + k * dim + j] = (float) (rows[r * dim + j] * mean);
                            }
                        }
                        count++;
                    }
                }
                p[revived] += count;
            }
            if (ema) {
                VqKernels.normalizeCodes(p, emb, size, avg, epsilon, codes, dim);
            }
        }
    }

    /** True when every cluster size is 0 (no step has updated the codebook yet). */
    private static boolean unusedSizes(float[] p, int size, int codes) {
        for (int k = 0; k < codes; k++) {
            if (p[size + k] != 0f) {
                return false;
            }
        }
        return true;
    }

    /**
     * The straight-through estimator z_e + sg(z_q - z_e): the value of input 1 (the quantized
     * codes), the gradient passed unchanged to input 0 (z_e); input 1 takes none.
     */
    public record StraightThrough() implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            if (!inputs.get(0).equals(inputs.get(1))) {
                throw new IllegalArgumentException(name + ": z_e is " + inputs.get(0) + " but the codes are " + inputs.get(1));
            }
            return inputs.get(0);
        }

        @Override
        public boolean takesGradient(int input) {
            return input == 0;
        }

        @Override
        public void forward(Node n, OpContext c) {
            System.arraycopy(c.value(n.input(1)), 0, c.value(n.id()), 0, c.batch() * n.width());
        }

        @Override
        public void backward(Node n, OpContext c) {
            passGradient(n, c);
        }
    }

    /**
     * A quantizer's loss, weight * ||a - b||^2 per sample over all positions and channels: the
     * codebook loss ||sg(z_e) - e||^2 ({@code codebook}, weight 1) or the commitment loss beta
     * ||z_e - sg(e)||^2. Both inputs take a gradient (2 weight (a - b), and its negative); a
     * stop-gradient before an input keeps it from flowing there.
     */
    public record QuantizationLoss(float weight, boolean codebook) implements Penalty {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            if (inputs.get(0).size() != inputs.get(1).size()) {
                throw new IllegalArgumentException(name + ": its inputs have " + inputs.get(0).size() + " and " + inputs.get(1).size() + " values");
            }
            return Shape.features(1);
        }

        @Override
        public void forward(Node n, OpContext c) {
            VqKernels.squaredDistance(c.value(n.id()), c.value(n.input(0)), c.value(n.input(1)), weight, c.batch(), inWidth(c, n, 0));
        }

        @Override
        public void backward(Node n, OpContext c) {
            int count = c.batch() * inWidth(c, n, 0);
            float[] a = c.value(n.input(0)), b = c.value(n.input(1));
            if (c.needsGradient(0)) {
                VqKernels.squaredDistanceBackward(c.gradient(n.input(0)), c.accumulate(0), a, b, weight * c.lossScale(), count);
            }
            if (c.needsGradient(1)) {
                VqKernels.squaredDistanceBackward(c.gradient(n.input(1)), c.accumulate(1), b, a, weight * c.lossScale(), count);
            }
        }
    }

    /**
     * Finite scalar quantization (Mentzer et al. 2023) with {@code levels[c]} levels on channel c
     * of each position ({@link VqKernels#fsqForward}); the straight-through gradient passes the
     * rounding ({@link VqKernels#fsqBackward}). No parameters, no codebook loss.
     */
    public record FiniteScalarQuantize(int[] levels) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = inputs.get(0);
            if (codeChannels(x) != levels.length) {
                throw new IllegalArgumentException(name + " takes " + levels.length + " channels per position (one per level) but its input is " + x);
            }
            return x;
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public void forward(Node n, OpContext c) {
            VqKernels.fsqForward(c.value(n.id()), c.value(n.input(0)), levels, c.batch(), positions(n.shape()));
        }

        @Override
        public void backward(Node n, OpContext c) {
            VqKernels.fsqBackward(c.gradient(n.input(0)), c.accumulate(0), c.gradient(n.id()), c.value(n.input(0)), levels, c.batch(),
                    positions(n.shape()));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FiniteScalarQuantize f && java.util.Arrays.equals(levels, f.levels);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(levels);
        }

        @Override
        public String toString() {
            return "FiniteScalarQuantize" + java.util.Arrays.toString(levels);
        }
    }

    // ------------------------------------------------------------------ autoregressive prior over code grids

    /**
     * A convolution whose weight is causally masked ({@link PixelCnnKernels#kept}: type A, {@code typeA},
     * keeps only the taps before the centre in raster order, type B the centre too), stride 1 and
     * "same" padding, with its bias: parameters weight (out, in, k, k) and bias (out). Forward and
     * the data gradient use the masked weight (a copy in buffer 0); the weight's gradient is masked
     * as well, so a masked tap never changes (and stays 0 when it starts at 0).
     */
    public record MaskedConv(ConvShape geometry, boolean typeA) implements Op {
        public MaskedConv {
            if (geometry.transposed() || geometry.stride() != 1 || geometry.kernelHeight() % 2 == 0
                    || geometry.outHeight() != geometry.inHeight() || geometry.outWidth() != geometry.inWidth()) {
                throw new IllegalArgumentException("a masked convolution needs an odd kernel, stride 1 and same padding, got " + geometry);
            }
        }

        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            return new Conv(geometry).shape(name, inputs, params);
        }

        @Override
        public boolean takesGradient(int input) {
            return true;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            return List.of(new Buffer("masked weight", Buffer.Type.FLOATS, 0, geometry.weightSize(), false));
        }

        @Override
        public long stepScratchFloats(Node node, List<Shape> inputs, int maxBatch, int threads) {
            return Conv2d.scratchSize(geometry, maxBatch, threads);
        }

        @Override
        public void forward(Node n, OpContext c) {
            ConvShape g = geometry;
            PixelCnnKernels.applyMask(c.floats(0), 0, c.params(), c.paramOffset(0), g.outChannels(), g.inChannels(), g.kernelHeight(), typeA);
            c.conv().forward(c.value(n.id()), 0, c.value(n.input(0)), 0, c.floats(0), 0, c.params(), c.paramOffset(1), g, c.batch(),
                    c.stepScratch());
        }

        @Override
        public void backward(Node n, OpContext c) {
            if (c.accumulateParam(0) || c.accumulateParam(1)) {
                throw new IllegalStateException(n.name() + ": a convolution's weight shared with another layer is not supported");
            }
            ConvShape g = geometry;
            float[] dy = c.gradient(n.id());
            c.conv().backwardWeights(c.gradients(), c.paramOffset(0), c.gradients(), c.paramOffset(1), c.value(n.input(0)), 0, dy, 0, g,
                    c.batch(), c.stepScratch());
            PixelCnnKernels.mask(c.gradients(), c.paramOffset(0), g.outChannels(), g.inChannels(), g.kernelHeight(), typeA);
            if (c.needsGradient(0)) {
                c.conv().backwardData(c.gradient(n.input(0)), 0, c.accumulate(0), dy, 0, c.floats(0), 0, g, c.batch(), c.stepScratch());
            }
        }
    }

    /**
     * The embedding of a grid of code indices (one index per position, held as a float, 1 x H x W)
     * as {@code dim} channels per position: parameter weight (codes, dim), row k the vector of
     * code k. Takes no input gradient; the weight's gradient sums the positions' gradients by index.
     */
    public record Embedding(int codes, int dim) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape x = inputs.get(0);
            if (!x.spatial() || x.channels() != 1) {
                throw new IllegalArgumentException(name + " takes a 1 x H x W grid of indices, got " + x);
            }
            ParamSpec w = params.get(0);
            if (w.rows() != codes || w.cols() != dim) {
                throw new IllegalArgumentException(name + ": " + w.name() + " is " + w.rows() + " x " + w.cols() + " but the embedding has "
                        + codes + " codes of " + dim);
            }
            return Shape.image(dim, x.height(), x.width());
        }

        @Override
        public boolean takesGradient(int input) {
            return false;
        }

        @Override
        public void forward(Node n, OpContext c) {
            PixelCnnKernels.embedForward(c.value(n.id()), c.value(n.input(0)), c.params(), c.paramOffset(0), c.batch(),
                    c.node(n.input(0)).width(), dim);
        }

        @Override
        public void backward(Node n, OpContext c) {
            if (c.accumulateParam(0)) {
                throw new IllegalStateException(n.name() + ": an embedding shared with another layer is not supported");
            }
            PixelCnnKernels.embedBackward(c.gradients(), c.paramOffset(0), c.gradient(n.id()), c.value(n.input(0)), c.batch(),
                    c.node(n.input(0)).width(), dim, codes);
        }
    }

    /**
     * Per-sample categorical cross-entropy of a grid: input 0 the logits (codes x H x W, channels
     * first), input 1 the indices (1 x H x W, as floats; takes no gradient); the sum over positions
     * of -log softmax(logits at p)[index at p] ({@link PixelCnnKernels#categoricalNll}): (B) values,
     * the -log likelihood of the grid under an autoregressive prior. The gradient is softmax - one-hot.
     */
    public record CategoricalNll(int codes) implements Op {
        @Override
        public Shape shape(String name, List<Shape> inputs, List<ParamSpec> params) {
            Shape l = inputs.get(0), t = inputs.get(1);
            if (!l.spatial() || l.channels() != codes || !t.spatial() || t.channels() != 1 || l.height() != t.height() || l.width() != t.width()) {
                throw new IllegalArgumentException(name + " takes " + codes + " x H x W logits and a 1 x H x W grid of indices, got " + l + " and " + t);
            }
            return Shape.features(1);
        }

        @Override
        public boolean takesGradient(int input) {
            return input == 0;
        }

        @Override
        public Term term() {
            return Term.RECONSTRUCTION;
        }

        @Override
        public List<Buffer> buffers(Node node, List<Shape> inputs, boolean training) {
            return training ? List.of(Buffer.floatsPerSample("probabilities", inputs.get(0).size())) : List.of();
        }

        @Override
        public void forward(Node n, OpContext c) {
            int positions = c.node(n.input(1)).width();
            PixelCnnKernels.categoricalNll(c.value(n.id()), c.training() ? c.floats(0) : null, c.value(n.input(0)), c.value(n.input(1)),
                    c.batch(), codes, positions);
        }

        @Override
        public void backward(Node n, OpContext c) {
            int positions = c.node(n.input(1)).width();
            PixelCnnKernels.categoricalNllBackward(c.gradient(n.input(0)), c.accumulate(0), c.floats(0), c.value(n.input(1)), c.lossScale(),
                    c.batch(), codes, positions);
        }
    }
}
