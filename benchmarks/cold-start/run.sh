#!/usr/bin/env bash
# Cold start, fresh JVM -> model loaded -> first reconstruct, median of N runs (issue 20), each variant
# once per round (interleaved):
#   latent4j app    ColdStart.java: Models.load(model.safetensors) + one reconstruct, on target/latent4j.jar
#   ONNX Runtime    OrtColdStart.java: a session on the same model's ONNX export (latent4j export) + one run
#   launcher        ./latent4j reconstruct --model M --data one-row.csv --out OUT.csv (CSV and PNG written)
# each without and with a JDK 25 AOT cache (the apps: made here with -XX:AOTCacheOutput; the launcher:
# its own, in target/launcher-aot). Also the launcher's first use (recording) and, with --train, the
# first epoch of `bench train --workload w1 --threads 2 --epochs 2` without / with a cache recorded
# by a training run (JEP 515 method profiles).
#   flock /work/build.lock benchmarks/cold-start/run.sh [N] [--train]
# The demo model (./latent4j demo --epochs 1, ~40 s) is made once in benchmarks/cold-start/target.
# ONNX Runtime 1.29.0 (Maven Central, benchmarks only) comes from ~/.m2 (mvn dependency:get if missing).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
N=10 TRAIN=0
for a in "$@"; do case "$a" in --train) TRAIN=1 ;; *) N="$a" ;; esac; done
T="$HERE/target"
mkdir -p "$T"
L4J="$ROOT/latent4j"
export LATENT4J_AOT_DIR="$T/launcher-aot"
JDK="$("$L4J" which-jdk)"
JAVA="$JDK/bin/java"
LATENT4J_AOT=0 "$L4J" env >/dev/null 2>&1 || LATENT4J_AOT=0 "$L4J" build   # builds the jars if missing
V=1.29.0
ORT="$HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/$V/onnxruntime-$V.jar"
[[ -f "$ORT" ]] || mvn -B -q dependency:get -Dartifact=com.microsoft.onnxruntime:onnxruntime:$V

MODEL="$T/demo/model.safetensors"
[[ -f "$MODEL" ]] || LATENT4J_AOT=0 "$L4J" demo --epochs 1 --out "$T/demo" >/dev/null
[[ -f "$T/onnx/reconstruct.onnx" && "$T/onnx/reconstruct.onnx" -nt "$MODEL" ]] \
  || LATENT4J_AOT=0 "$L4J" export --model "$MODEL" --onnx "$T/onnx" >/dev/null
awk 'BEGIN { for (i = 0; i < 784; i++) printf "%s%.9g", (i ? "," : ""), (i % 255) / 255; print "" }' >"$T/one-row.csv"

rm -rf "$T/classes" && mkdir -p "$T/classes/l4j" "$T/classes/ort"
"$JDK/bin/javac" -cp "$ROOT/target/latent4j.jar" -d "$T/classes/l4j" "$HERE/ColdStart.java"
"$JDK/bin/javac" -cp "$ORT" -d "$T/classes/ort" "$HERE/OrtColdStart.java"
"$JDK/bin/jar" cf "$T/l4j-app.jar" -C "$T/classes/l4j" .
"$JDK/bin/jar" cf "$T/ort-app.jar" -C "$T/classes/ort" .

# The same JVM options for both apps (serial GC: the smaller start-up cost, as the launcher uses).
QUIET=(-Xlog:aot*=off -Xlog:cds*=off)
L4J_CMD=("$JAVA" --add-modules=jdk.incubator.vector -XX:+UseSerialGC -cp "$T/l4j-app.jar:$ROOT/target/latent4j.jar" ColdStart "$MODEL")
ORT_CMD=("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -cp "$T/ort-app.jar:$ORT" OrtColdStart "$T/onnx/reconstruct.onnx")
# The apps' caches: one training run each (JEP 514's one-step -XX:AOTCacheOutput), made anew every time.
rm -f "$T/l4j-app.aot" "$T/ort-app.aot"
"${L4J_CMD[0]}" "${QUIET[@]}" -XX:AOTCacheOutput="$T/l4j-app.aot" "${L4J_CMD[@]:1}" >/dev/null 2>"$T/l4j-aot.log"
"${ORT_CMD[0]}" "${QUIET[@]}" -XX:AOTCacheOutput="$T/ort-app.aot" "${ORT_CMD[@]:1}" >/dev/null 2>"$T/ort-aot.log"
[[ -s "$T/l4j-app.aot" && -s "$T/ort-app.aot" ]] || { echo "cold-start: an AOT cache was not made (see $T/*-aot.log)" >&2; exit 1; }
LAUNCHER=("$L4J" reconstruct --model "$MODEL" --data "$T/one-row.csv" --out "$T/out.csv")
rm -rf "$LATENT4J_AOT_DIR"
"${LAUNCHER[@]}" >/dev/null 2>&1
wait_lock() { local d="$1" i; for i in $(seq 600); do compgen -G "$d/*.lock" >/dev/null || return 0; sleep 0.1; done; }
wait_lock "$LATENT4J_AOT_DIR"
compgen -G "$LATENT4J_AOT_DIR/reconstruct-*.aot" >/dev/null || { echo "cold-start: the launcher made no cache" >&2; exit 1; }

# ms of wall time of one fresh process; its stdout in $T/last.out
wall() { local t0 t1; t0=$(date +%s%N); "$@" >"$T/last.out" 2>>"$T/stderr.log" || { echo "cold-start: failed: $*" >&2; exit 1; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
inner() { sed -n 's/.*->reconstructed \([0-9.]*\) ms.*/\1/p' "$T/last.out"; }
declare -A W I
names=(l4j l4j_aot ort ort_aot cli cli_aot cli_record)
: >"$T/stderr.log"
for ((r = 1; r <= N; r++)); do
  W[l4j]+="$(wall "${L4J_CMD[@]}") "; I[l4j]+="$(inner) "
  W[l4j_aot]+="$(wall "${L4J_CMD[0]}" "${QUIET[@]}" -XX:AOTCache="$T/l4j-app.aot" "${L4J_CMD[@]:1}") "; I[l4j_aot]+="$(inner) "
  W[ort]+="$(wall "${ORT_CMD[@]}") "; I[ort]+="$(inner) "
  W[ort_aot]+="$(wall "${ORT_CMD[0]}" "${QUIET[@]}" -XX:AOTCache="$T/ort-app.aot" "${ORT_CMD[@]:1}") "; I[ort_aot]+="$(inner) "
  W[cli]+="$(LATENT4J_AOT=0 wall "${LAUNCHER[@]}") "
  W[cli_aot]+="$(wall "${LAUNCHER[@]}") "
  # first use: the JVM records; the detached writer runs after it (waited for, not timed)
  W[cli_record]+="$(LATENT4J_AOT_DIR="$T/record-aot" wall "${LAUNCHER[@]}") "
  wait_lock "$T/record-aot"; rm -rf "$T/record-aot"
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A M MI
for k in "${names[@]}"; do M[$k]=$(echo "${W[$k]}" | median); MI[$k]=$(echo "${I[$k]:-}" | median); done
echo "cold start, fresh JVM -> model loaded -> first reconstruct: median of $N runs, wall ms (in-JVM main -> reconstructed ms)"
echo "  $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $("$JAVA" -version 2>&1 | sed -n 2p)"
printf '  %-34s %8s %8s   %s\n' "" "no cache" "AOT" "runs (no cache | AOT)"
printf '  %-34s %8s %8s   %s| %s\n' "latent4j app (ColdStart.java)" "${M[l4j]}" "${M[l4j_aot]}" "${W[l4j]}" "${W[l4j_aot]}"
printf '  %-34s %8s %8s\n' "  in the JVM: main -> reconstructed" "${MI[l4j]}" "${MI[l4j_aot]}"
printf '  %-34s %8s %8s   %s| %s\n' "ONNX Runtime $V app" "${M[ort]}" "${M[ort_aot]}" "${W[ort]}" "${W[ort_aot]}"
printf '  %-34s %8s %8s\n' "  in the JVM: main -> reconstructed" "${MI[ort]}" "${MI[ort_aot]}"
printf '  %-34s %8s %8s   %s| %s\n' "./latent4j reconstruct" "${M[cli]}" "${M[cli_aot]}" "${W[cli]}" "${W[cli_aot]}"
printf '  %-34s %8s            %s\n' "./latent4j reconstruct, recording" "${M[cli_record]}" "${W[cli_record]}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "  latent4j/ORT: AOT vs ORT without $(ratio "${M[l4j_aot]}" "${M[ort]}"), both with AOT $(ratio "${M[l4j_aot]}" "${M[ort_aot]}"), both without $(ratio "${M[l4j]}" "${M[ort]}") (target <= 0.6)"
echo "  launcher: with its cache / without $(ratio "${M[cli_aot]}" "${M[cli]}"); recording / without $(ratio "${M[cli_record]}" "${M[cli]}")"
echo "  outputs: $(LATENT4J_AOT=0 "${L4J_CMD[@]}" 2>/dev/null | sed 's/.*sum/latent4j sum/'), $("${ORT_CMD[@]}" 2>/dev/null | sed 's/.*sum/ORT sum/')"

if (( TRAIN )); then
  # First epoch of W1 training: no cache, then a cache recorded by a 1-epoch training run (one step).
  TRAIN_CMD=(bench train --workload w1 --threads 2 --epochs 2)
  first_epoch() { grep -E -m1 'epoch +1:' "$T/train.out" || true; }
  rm -f "$T/train.aot"
  LATENT4J_JAVA_OPTS="${QUIET[*]} -XX:AOTCacheOutput=$T/train.aot" "$L4J" bench train --workload w1 --threads 2 --epochs 1 >"$T/train-record.out" 2>&1
  echo "train recording run (1 epoch): $(grep -E -m1 'epoch +1:' "$T/train-record.out" || true)"
  for ((r = 1; r <= 3; r++)); do
    "$L4J" "${TRAIN_CMD[@]}" >"$T/train.out" 2>&1; echo "  no cache:    $(first_epoch)"
    LATENT4J_JAVA_OPTS="${QUIET[*]} -XX:AOTCache=$T/train.aot" "$L4J" "${TRAIN_CMD[@]}" >"$T/train.out" 2>&1; echo "  train cache: $(first_epoch)"
  done
fi
