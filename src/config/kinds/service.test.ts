import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { portProtocol } from "../../model/specs/kubernetes.ts";
import { validateResource } from "../validate.ts";

function check(spec: string): string[] {
  const { resources } = parseDocuments(`apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec:\n${spec}`, "svc.yaml");
  return validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
}

test("a typical Service is valid", () => {
  assert.deepEqual(check("  selector: {app: reviews}\n  ports:\n  - name: http\n    port: 9080\n    targetPort: 9080\n  - name: grpc-x\n    port: 9090\n    targetPort: grpc\n"), []);
  assert.deepEqual(check("  clusterIP: None\n  selector: {app: db}\n"), [], "headless without ports");
  assert.deepEqual(check("  type: ExternalName\n  externalName: db.example.com\n"), []);
});

test("Service errors name the field", () => {
  const cases: [string, RegExp][] = [
    ["  ports: []\n", /^spec\.ports: Required value/],
    ["  ports:\n  - port: 0\n", /^spec\.ports\[0\]\.port: must be greater than or equal to 1/],
    ["  ports:\n  - port: 70000\n", /^spec\.ports\[0\]\.port: must be less than or equal to 65535/],
    ["  ports:\n  - name: a\n    targetPort: 80\n", /^spec\.ports\[0\]\.port: Required value/],
    ["  ports:\n  - port: 80\n  - port: 81\n", /^spec\.ports\[0\]\.name: Required value/],
    ["  ports:\n  - {name: a, port: 80}\n  - {name: a, port: 81}\n", /^spec\.ports\[1\]\.name: Duplicate value/],
    ["  ports:\n  - {name: a, port: 80}\n  - {name: b, port: 80}\n", /^spec\.ports\[1\]\.port: Duplicate value/],
    ["  ports:\n  - {port: 80, protocol: HTTP}\n", /^spec\.ports\[0\]\.protocol: Unsupported value: "HTTP"/],
    ["  ports:\n  - {port: 80, targetPort: \"8080\"}\n", /quoted number/],
    ["  ports:\n  - {port: 80, targetPort: Http_Port}\n", /port name "Http_Port"/],
    ["  ports:\n  - {port: 80, name: Web}\n", /^spec\.ports\[0\]\.name: "Web" must be a lowercase/],
    ["  clusterIP: 10.0.0.300\n  ports: [{port: 80}]\n", /^spec\.clusterIP:/],
    ["  type: Magic\n  ports: [{port: 80}]\n", /^spec\.type: Unsupported value/],
    ["  type: ExternalName\n", /^spec\.externalName: Required value/],
    ["  selector: {app: [x]}\n  ports: [{port: 80}]\n", /^spec\.selector\.app: must be of type string/],
  ];
  for (const [spec, want] of cases) {
    const errors = check(spec);
    assert.ok(errors.some((e) => want.test(e)), `${JSON.stringify(spec)} → ${JSON.stringify(errors)}`);
  }
});

test("portProtocol follows Istio: UDP, then appProtocol, then the name prefix", () => {
  const table: [Parameters<typeof portProtocol>[0], string][] = [
    [{ name: "http" }, "http"],
    [{ name: "http-web" }, "http"],
    [{ name: "HTTP2-x" }, "http2"],
    [{ name: "https" }, "https"],
    [{ name: "grpc" }, "grpc"],
    [{ name: "grpc-web" }, "grpc-web"],
    [{ name: "grpc-web-ui" }, "grpc-web"],
    [{ name: "tcp-db" }, "tcp"],
    [{ name: "tls" }, "tls"],
    [{ name: "mongo-a" }, "mongo"],
    [{ name: "mysql" }, "mysql"],
    [{ name: "redis-x" }, "redis"],
    [{ name: "web" }, "unknown"],
    [{ name: "httpx" }, "unknown"],
    [{}, "unknown"],
    [{ name: "http", protocol: "UDP" }, "udp"],
    [{ name: "tcp", appProtocol: "http" }, "http"],
    [{ name: "http", appProtocol: "kubernetes.io/h2c" }, "http2"],
    [{ appProtocol: "kubernetes.io/ws" }, "http"],
    [{ appProtocol: "kubernetes.io/wss" }, "https"],
    [{ name: "http", appProtocol: "" }, "http"],
  ];
  for (const [port, want] of table) assert.equal(portProtocol(port), want, JSON.stringify(port));
});

test("the amime.dev/health-check annotation is validated on Services", () => {
  const { resources } = parseDocuments(
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  annotations:\n    amime.dev/health-check: \'{"http":{"path":"health"}}\'\nspec:\n  ports: [{port: 80}]\n',
    "svc.yaml",
  );
  const errors = validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error");
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /^http\.path: must be an absolute path/);
  assert.match(errors[0]!.path, /amime\.dev\/health-check/);
});
