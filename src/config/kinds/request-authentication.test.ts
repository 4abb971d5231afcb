import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";
import { jwksProblem } from "./request-authentication.ts";

function errors(rule: string): string[] {
  const { resources } = parseDocuments(`apiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\nmetadata: {name: r}\nspec:\n  jwtRules:\n  - ${rule}\n`, "r.yaml");
  return validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
}

const JWKS = JSON.stringify({ keys: [{ kty: "RSA", e: "AQAB", n: "abc" }] });

test("valid JWT rules", () => {
  assert.deepEqual(errors("{issuer: a, jwksUri: \"https://a.example/jwks.json\", timeout: 1.5s}"), []);
  assert.deepEqual(errors(`{issuer: a, jwks: '${JWKS}', presence: OPTIONAL}`), []);
  assert.deepEqual(errors("{issuer: a, jwks_uri: \"http://a:8080/k\", fromHeaders: [{name: x-jwt, prefix: \"Bearer \"}]}"), []);
});

test("rejected JWT rules", () => {
  const cases: [string, RegExp][] = [
    ["{jwksUri: \"https://a/k\"}", /^spec\.jwtRules\[0\]\.issuer: issuer must be set/],
    ["{issuer: a, jwksUri: \"ftp://a/k\"}", /jwksUri: url must have scheme http:\/\/ or https:\/\//],
    ["{issuer: a, jwksUri: \"https://a/k\", jwks: \"{}\"}", /^spec\.jwtRules\[0\]: only one of jwks or jwksUri can be set/],
    ["{issuer: a, jwks: \"{not json\"}", /jwks: jwks parse error: not JSON/],
    ["{issuer: a, timeout: 0.5ms}", /timeout: must be a valid duration greater than 1ms/],
    ["{issuer: a, forwardOriginalToken: \"yes\"}", /forwardOriginalToken: must be of type boolean/],
    ["{issuer: a, audiences: a}", /audiences: must be of type array/],
  ];
  for (const [rule, want] of cases) {
    const errs = errors(rule);
    assert.ok(errs.some((e) => want.test(e)), `${rule} → ${JSON.stringify(errs)}`);
  }
});

test("jwksProblem", () => {
  assert.equal(jwksProblem(JWKS), null);
  assert.match(jwksProblem('{"keys": []}') ?? "", /empty/);
  assert.match(jwksProblem('{"keys": [{}]}') ?? "", /kty/);
  assert.match(jwksProblem("[]") ?? "", /"keys" array/);
});
