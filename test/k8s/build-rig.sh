#!/usr/bin/env bash
# Builds the Kubernetes test rig (a real kube-apiserver and kube-controller-manager from the
# k8s.io/kubernetes Go module, see test/k8s/rig/README.md) into a cache directory outside the clone,
# only when it is missing. Prints the directory that holds the binaries.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="v1.37.2"
out="${AMIME_K8S_RIG:-${XDG_CACHE_HOME:-$HOME/.cache}/amime/k8s-rig-$version}"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
(cd "$here/rig" && go build -o "$out/" ./cmd/kube-apiserver ./cmd/kube-controller-manager) >&2
echo "$out"
