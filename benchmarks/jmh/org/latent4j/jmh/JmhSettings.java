package org.latent4j.jmh;

/** Settings shared by the JMH benchmarks. */
final class JmhSettings {
    private JmhSettings() {}

    /** Same value as the pom's vector.module.arg property (annotations need a constant). */
    static final String VECTOR_MODULE = "--add-modules=jdk.incubator.vector";
}
