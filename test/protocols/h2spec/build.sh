#!/usr/bin/env bash
# Builds h2spec (the HTTP/2 conformance tester, pinned by go.mod / go.sum here) into a cache
# directory outside the clone, as test/k8s/build-rig.sh does for the Kubernetes rig; a no-op when
# it is there. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="v2.2.1"
out="${XDG_CACHE_HOME:-$HOME/.cache}/amime/h2spec-$version"
if [ ! -x "$out/h2spec" ]; then
  mkdir -p "$out"
  (cd "$here" && go build -buildvcs=false -o "$out/h2spec" github.com/summerwind/h2spec/cmd/h2spec) >&2
fi
echo "$out/h2spec"
