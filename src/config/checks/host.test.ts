import assert from "node:assert/strict";
import { test } from "node:test";
import { fqdnError, ipSubnetError, isIPv6, wildcardDomainError } from "./host.ts";

test("wildcard domains follow Istio's texts", () => {
  assert.equal(wildcardDomainError("*.foo.bar"), null);
  assert.equal(wildcardDomainError("*"), null);
  assert.equal(wildcardDomainError("reviews"), null);
  assert.equal(wildcardDomainError("foo.ba!r"), 'domain name "ba!r" invalid (label "ba!r" invalid)');
  assert.equal(wildcardDomainError("foo.*"), 'domain name "*" invalid (label "*" invalid)');
  assert.equal(wildcardDomainError(""), "empty domain name not allowed");
  assert.match(fqdnError("*.a.com") ?? "", /label "\*" invalid/);
  assert.match(fqdnError("a.123") ?? "", /all-numeric/);
});

test("IP addresses and subnets", () => {
  assert.equal(ipSubnetError("10.0.0.0/8"), null);
  assert.equal(ipSubnetError("2001:db8::/32"), null);
  assert.equal(ipSubnetError("10.0.0.1"), null);
  assert.equal(ipSubnetError("10.0.0.0/33"), "10.0.0.0/33 is not a valid CIDR block");
  assert.equal(ipSubnetError("300.0.0.1"), "300.0.0.1 is not a valid IP");
  assert.ok(isIPv6("::1") && isIPv6("fe80::1%eth0") && isIPv6("::ffff:1.2.3.4") && !isIPv6("1::2::3"));
});
