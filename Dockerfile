# The one Amime image: control plane, sidecar (`amime proxy`), the injected init container
# (`amime capture`, which needs iptables) and the node agent's DaemonSet (`amime node-agent`:
# iptables, and nsenter from util-linux, which Debian always has), as Istio's proxyv2 + pilot +
# install-cni images in one.
# NOT BUILT OR TESTED HERE: the development machine has no container engine (docs/kubernetes.md).
#   docker build -t amime:0.1.0 .
#   amime install --image amime:0.1.0 --apply
FROM node:24-bookworm-slim

# iptables for `amime capture` (istio-init); ca-certificates for outbound TLS origination.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /amime
COPY package.json package-lock.json ./
# Runtime dependencies only (the image's Node 24 runs the TypeScript sources with type stripping;
# sidecars run the JavaScript tree built below).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY manifests ./manifests
COPY samples ./samples
# dist/: the JavaScript tree (types stripped by Node itself) and dist/bundle/, its bundle (esbuild, a
# runtime dependency; its binary comes in @esbuild/linux-x64, no install script needed), which the
# injected istio-proxy container runs (src/control-plane/webhook/inject/template.ts).
RUN node src/runtime/js-build/build-main.ts
RUN ln -s /amime/bin/amime.js /usr/local/bin/amime

# The sidecar's and the control plane's user (Istio's 1337); istio-init runs as root by its own
# securityContext, with NET_ADMIN and NET_RAW only; the node agent as root by its DaemonSet's.
USER 1337:1337
ENTRYPOINT ["amime"]
CMD ["--help"]
