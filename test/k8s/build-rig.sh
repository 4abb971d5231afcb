#!/usr/bin/env bash
# Builds the Kubernetes test rig (a real kube-apiserver, kube-controller-manager and kubectl from
# the k8s.io/* Go modules, see test/k8s/rig/README.md) into a cache directory outside the clone;
# builds only what is missing (all three again when the build recipe below changed: Go's build
# cache then makes that a relink). Prints the directory that holds the binaries.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="v1.37.2"
out="${AMIME_K8S_RIG:-${XDG_CACHE_HOME:-$HOME/.cache}/amime/k8s-rig-$version}"
# Stamp the release into the binaries as Kubernetes' own build does (hack/lib/version.sh): without
# it they report v0.0.0-master and kubectl refuses to parse its own version.
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitTreeState=clean"
done
# -buildvcs=false: the rig's version is the pin above, not this clone's git state (and a clone
# owned by another user would make go's VCS stamping fail).
recipe="go build -buildvcs=false -ldflags '${ldflags# }'"
binaries=(kube-apiserver kube-controller-manager kubectl)
missing=()
if [ "$(cat "$out/.recipe" 2>/dev/null)" != "$recipe" ]; then
  missing=("${binaries[@]/#/./cmd/}")
else
  for b in "${binaries[@]}"; do [ -x "$out/$b" ] || missing+=("./cmd/$b"); done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  mkdir -p "$out"
  rm -f "$out/.recipe"
  (cd "$here/rig" && go build -buildvcs=false -ldflags "${ldflags# }" -o "$out/" "${missing[@]}") >&2
  echo "$recipe" >"$out/.recipe"
fi
echo "$out"
