#!/usr/bin/env bash
# Builds h2spec (the HTTP/2 conformance tester, pinned by go.mod / go.sum here; README.md) into a
# cache directory outside the clone, as test/k8s/build-rig.sh does for the Kubernetes rig; a no-op
# when it is there and was built from this recipe and these go.mod / go.sum (a changed pin rebuilds
# it). Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="v2.2.1"
out="${AMIME_H2SPEC:-${XDG_CACHE_HOME:-$HOME/.cache}/amime/h2spec-$version}"
# Stamp the release as h2spec's own Makefile does (`h2spec --version`); -buildvcs=false: the
# version is the pin, not this clone's git state.
ldflags="-X main.VERSION=${version#v}"
recipe="go build -buildvcs=false -ldflags '$ldflags' $(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
if [ ! -x "$out/h2spec" ] || [ "$(cat "$out/.recipe" 2>/dev/null)" != "$recipe" ]; then
  mkdir -p "$out"
  rm -f "$out/.recipe"
  (cd "$here" && go build -buildvcs=false -ldflags "$ldflags" -o "$out/h2spec" github.com/summerwind/h2spec/cmd/h2spec) >&2
  echo "$recipe" >"$out/.recipe"
fi
echo "$out/h2spec"
