#!/bin/sh
# ONNX Runtime (Java API, native) and latent4j (pure Java) on the same ONNX files: batch 1 (median
# of 10,000 calls) and batch 256 (throughput over 5 s), 1 and 2 threads, outputs compared.
# Run from anywhere, on a quiet machine (here: flock /work/build.lock benchmarks/compare-ort/run.sh).
# The first run downloads ONNX Runtime (com.microsoft.onnxruntime:onnxruntime) from Maven Central
# into ~/.m2; the main build and its tests never need it.
set -e
cd "$(dirname "$0")"
ROOT=../..
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
[ -f target/lib/onnxruntime-1.29.0.jar ] || mvn -B -q dependency:copy-dependencies -DoutputDirectory=target/lib
(cd "$ROOT" && mvn -B -o -q compile)
[ -f target/models/conv_ae.onnx ] || /usr/bin/python3 make_models.py target/models
mkdir -p target/classes
CP="$ROOT/target/classes:target/lib/onnxruntime-1.29.0.jar:target/lib/protobuf-java-4.36.2.jar"
"$JAVA_HOME/bin/javac" -Xlint:all,-incubating --add-modules jdk.incubator.vector -cp "$CP" -d target/classes CompareOrt.java
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m \
    -cp "target/classes:$CP" CompareOrt target/models "$@"
