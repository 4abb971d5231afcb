// The V8 flags every sidecar and gateway process is started with, by whoever starts it: the local
// and netns runtimes (src/runtime/js-build/sidecar-launch.ts), the Kubernetes injection template's
// command and the bench. V8 sizes its heap only at start, so they cannot be set from inside.
//
// --max-semi-space-size=1: the young generation's semi-spaces stay at 1 MB instead of growing to
// 16 MB (Node 24's default maximum on 64-bit). A proxy allocates short-lived objects per request
// and per connection; with the default, a burst of connections leaves the young generation at its
// maximum for good (the RSS plateau of docs/performance.md, "Memory and start").
export const SIDECAR_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
