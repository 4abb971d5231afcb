// The synthetic large mesh of the benchmarks: n services svc-0… in namespaces ns-0…ns-9, each a
// Service (port 8080, selector app), a DestinationRule with subsets v1/v2 and a VirtualService
// (end-user: tester → v2, else v1, 3 s timeout). Used by bench/push.ts (the push at scale) and
// bench/targets/deployed.ts (a sidecar with 1,000 more services, bench/memory.ts --services).
export function manyServicesYaml(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = `svc-${i}`;
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${s}, namespace: ns-${i % 10}}
spec:
  selector: {app: ${s}}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${s}, namespace: ns-${i % 10}}
spec:
  host: ${s}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${s}, namespace: ns-${i % 10}}
spec:
  hosts: [${s}]
  http:
  - match: [{headers: {end-user: {exact: tester}}}]
    route: [{destination: {host: ${s}, subset: v2}}]
  - route: [{destination: {host: ${s}, subset: v1}}]
    timeout: 3s`);
  }
  return docs.join("\n---\n");
}
