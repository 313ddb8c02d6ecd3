#!/usr/bin/env bash
# Regenerates src/main/java/org/latent4j/onnx/proto/Onnx.java from src/main/proto/onnx/onnx.proto.
#
# onnx.proto is the official ONNX IR definition, byte for byte as ONNX 1.12 ships it (Debian's
# python3-onnx: /usr/lib/python3/dist-packages/onnx/onnx.proto, IR version 8, opsets up to 17).
# The generated Java is checked in, so that a clean clone builds with Maven and the protobuf-java
# jar alone: no protoc binary (native, and published for only a few platforms) runs at build time.
# Run this script after changing the .proto or the protobuf version (pom.xml: protobuf.version);
# the generated code must come from the protoc of the same version as the protobuf-java runtime.
#
#   src/main/proto/regenerate.sh            # fetches protoc ${protobuf.version} from Maven Central once
#   PROTOC=/path/to/protoc src/main/proto/regenerate.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
VERSION=$(sed -n 's:.*<protobuf.version>\(.*\)</protobuf.version>.*:\1:p' pom.xml | head -n1)
[[ -n "$VERSION" ]] || { echo "pom.xml has no <protobuf.version>" >&2; exit 1; }
if [[ -z "${PROTOC:-}" ]]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) os=linux-x86_64 ;;
    Linux-aarch64) os=linux-aarch_64 ;;
    Darwin-x86_64) os=osx-x86_64 ;;
    Darwin-arm64) os=osx-aarch_64 ;;
    *) echo "no protoc on Maven Central for $(uname -s)-$(uname -m); set PROTOC to a protoc $VERSION" >&2; exit 1 ;;
  esac
  PROTOC="$HOME/.m2/repository/com/google/protobuf/protoc/$VERSION/protoc-$VERSION-$os.exe"
  if [[ ! -f "$PROTOC" ]]; then
    mvn -B -q dependency:get -Dartifact="com.google.protobuf:protoc:$VERSION:exe:$os"
  fi
  chmod +x "$PROTOC"
fi
# The Java package and outer class are given here, not in onnx.proto, so that the official file stays
# untouched: a copy with the two Java options appended is compiled. onnx.proto asks for the lite
# runtime (optimize_for = LITE_RUNTIME); its code runs on the full protobuf-java runtime too.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp src/main/proto/onnx/onnx.proto "$tmp/onnx.proto"
printf '\noption java_package = "org.latent4j.onnx.proto";\noption java_outer_classname = "Onnx";\n' >> "$tmp/onnx.proto"
mkdir -p "$tmp/out"
"$PROTOC" -I"$tmp" --java_out=lite:"$tmp/out" "$tmp/onnx.proto"
mkdir -p src/main/java/org/latent4j/onnx/proto
cp "$tmp/out/org/latent4j/onnx/proto/Onnx.java" src/main/java/org/latent4j/onnx/proto/Onnx.java
echo "regenerated src/main/java/org/latent4j/onnx/proto/Onnx.java with $("$PROTOC" --version)"
