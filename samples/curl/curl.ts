// The mesh's client workload, as Istio's curl sample: it does nothing but stay up, so that
// `amime exec curl -- curl -s http://httpbin:8000/get` has an identity and a sidecar to send
// requests through (curl reads http_proxy, which Amime sets for the exec'd command).
const keepAlive = setInterval(() => {}, 1 << 30);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    clearInterval(keepAlive);
    process.stdout.write(`curl: ${signal}, exiting\n`);
    process.exit(0);
  });
}
// "ready" only once the signal handlers are in place: a supervisor may stop it right away.
process.stdout.write("curl client ready: run `amime exec curl -- curl -s http://<service>:<port>/…`\n");
