#!/usr/bin/env bash
# Runs benchmarks/spark/SparkBench.java in one JVM with Spark local[2] (Spark's jars from the
# Maven repository, provided scope) and the JVM flags Spark needs on JDK 25.
#   benchmarks/spark/run.sh [samples-per-run]     (default 60000: one epoch of Fashion-MNIST)
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
mvn -B -o -q compile
mvn -B -o -q dependency:build-classpath -Dmdep.outputFile=target/spark-classpath.txt -Dmdep.includeScope=provided >/dev/null
OPENS=$(sed -n 's:.*<spark.jvm.args>\(.*\)</spark.jvm.args>.*:\1:p' pom.xml)
exec "$JAVA_HOME/bin/java" -Xmx6g --add-modules=jdk.incubator.vector $OPENS \
  -cp "target/classes:$(cat target/spark-classpath.txt)" benchmarks/spark/SparkBench.java "$@"
