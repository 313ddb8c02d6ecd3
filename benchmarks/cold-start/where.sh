#!/usr/bin/env bash
# Where the latent4j app's cold start goes (after run.sh has made target/): JVM start, classes loaded
# (and how many from the AOT cache), Models.load, the first reconstruct and the next ones, under a
# few JIT settings. flock /work/build.lock benchmarks/cold-start/where.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
T="$HERE/target"
JDK="$("$ROOT/latent4j" which-jdk)"
"$JDK/bin/javac" -cp "$ROOT/target/latent4j.jar" -d "$T/classes/l4j" "$HERE/ColdStart.java"
"$JDK/bin/jar" cf "$T/l4j-app.jar" -C "$T/classes/l4j" .
rm -f "$T/l4j-app.aot"
J=("$JDK/bin/java" --add-modules=jdk.incubator.vector -XX:+UseSerialGC -Xlog:aot*=off -Xlog:cds*=off)
CP=(-cp "$T/l4j-app.jar:$ROOT/target/latent4j.jar" ColdStart "$T/demo/model.safetensors")
"${J[@]}" -XX:AOTCacheOutput="$T/l4j-app.aot" "${CP[@]}" >/dev/null 2>&1
ms() { local t0 t1; t0=$(date +%s%N); "$@" 2>/dev/null | sed 's/, sum [0-9.]*//'; t1=$(date +%s%N); echo "    wall $(( (t1 - t0) / 1000000 )) ms"; }
echo "JVM alone (java -version, serial GC): $(t0=$(date +%s%N); "$JDK/bin/java" -XX:+UseSerialGC -version 2>/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 ))) ms"
for aot in "" "-XX:AOTCache=$T/l4j-app.aot"; do
  echo "${aot:-no cache}:"
  "${J[@]}" $aot -Xlog:class+load:file="$T/classload.txt" "${CP[@]}" >/dev/null 2>&1
  echo "  classes loaded $(wc -l <"$T/classload.txt"), from the AOT/CDS archive $(grep -c 'shared objects file' "$T/classload.txt"), latent4j's $(grep -c ' org.latent4j' "$T/classload.txt"), jdk.incubator.vector's $(grep -c 'jdk.incubator.vector' "$T/classload.txt")"
  for opt in "" -Xint -XX:TieredStopAtLevel=1 -Dlatent4j.vectorBits=256 -Dlatent4j.vectorBits=128; do
    echo "  ${opt:-default JIT}: $(ms "${J[@]}" $aot $opt "${CP[@]}" 5 | tr '\n' ' ')"
  done
done
# The launcher's reconstruct: classes loaded without and with its cache (its own cache of these options).
L=("$ROOT/latent4j" reconstruct --model "$T/demo/model.safetensors" --data "$T/one-row.csv" --out "$T/out.csv")
export LATENT4J_AOT_DIR="$T/where-aot"
rm -rf "$LATENT4J_AOT_DIR"
for run in "no cache" recording "its cache"; do
  [[ "$run" == "no cache" ]] && export LATENT4J_AOT=0 || unset LATENT4J_AOT
  LATENT4J_JAVA_OPTS="-Xlog:class+load:file=$T/classload.txt" "${L[@]}" >/dev/null 2>&1
  echo "launcher reconstruct, $run: classes loaded $(wc -l <"$T/classload.txt"), from the archive $(grep -c 'shared objects file' "$T/classload.txt"), picocli's $(grep -c ' picocli' "$T/classload.txt") ($(grep ' picocli' "$T/classload.txt" | grep -c 'shared objects file') archived), java.desktop's (AWT/ImageIO) $(grep -c -E ' (java\.awt|javax\.imageio|sun\.awt|sun\.java2d)' "$T/classload.txt")"
  for i in $(seq 100); do compgen -G "$LATENT4J_AOT_DIR/*.lock" >/dev/null || break; sleep 0.1; done
done
