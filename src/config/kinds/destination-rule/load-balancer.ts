// LoadBalancerSettings: simple policies, consistent hashing (ring hash / maglev), locality and warmup.
import { checkDuration } from "../../checks/duration.ts";
import { checkKnownFields } from "../../checks/fields.ts";
import { readArray, readBool, readEnum, readInt, readNumber, readObject, readString, readStringArray, UINT32 } from "../../checks/shape.ts";
import { MAGLEV_TABLE_SIZE_LIMIT } from "../../defaults.ts";
import { isObject, type FieldPath, type JsonObject } from "../../../model/resource.ts";
import type { Validator } from "../../validator.ts";
import { checkLocalityLb } from "./locality.ts";

export const SIMPLE_LB = ["UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"] as const;

/** Envoy's primality test (Istio copies it so maglev tables match exactly). */
export function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let f = 3; f <= limit; f += 2) if (x % f === 0) return false;
  return true;
}

/** DoubleValue wrappers may be written bare (`5.0`) or as `{value: 5.0}`. */
function readWrappedNumber(v: Validator, path: FieldPath, x: unknown): number | undefined {
  if (isObject(x) && "value" in x) return readNumber(v, [...path, "value"], x.value);
  return readNumber(v, path, x);
}

export function checkLoadBalancer(v: Validator, path: FieldPath, lb: JsonObject, outlier: unknown): void {
  checkKnownFields(v, path, lb, ["simple", "consistentHash", "localityLbSetting", "zoneAwareLbSetting", "warmupDurationSecs", "warmup"]);
  const simple = readEnum(v, [...path, "simple"], lb.simple, SIMPLE_LB);
  if (simple === "LEAST_CONN") v.deprecated([...path, "simple"], "LEAST_CONN is deprecated, use LEAST_REQUEST");
  if (lb.simple != null && lb.consistentHash != null) v.error(path, "only one of simple or consistentHash may be set");
  const ch = readObject(v, [...path, "consistentHash"], lb.consistentHash);
  if (ch) checkConsistentHash(v, [...path, "consistentHash"], ch);
  if (lb.localityLbSetting != null && lb.zoneAwareLbSetting != null) v.error(path, "only one of localityLbSetting or zoneAwareLbSetting can be set");
  const loc = readObject(v, [...path, "localityLbSetting"], lb.localityLbSetting);
  if (loc) checkLocalityLb(v, [...path, "localityLbSetting"], loc, outlier != null);
  const zone = readObject(v, [...path, "zoneAwareLbSetting"], lb.zoneAwareLbSetting);
  if (zone) {
    checkKnownFields(v, [...path, "zoneAwareLbSetting"], zone, ["enabled", "failover", "failoverPriority", "minClusterSize"]);
    readBool(v, [...path, "zoneAwareLbSetting", "enabled"], zone.enabled);
    readStringArray(v, [...path, "zoneAwareLbSetting", "failoverPriority"], zone.failoverPriority);
    readInt(v, [...path, "zoneAwareLbSetting", "minClusterSize"], zone.minClusterSize, UINT32);
  }
  if (lb.warmupDurationSecs != null) {
    v.deprecated([...path, "warmupDurationSecs"], 'using deprecated setting "warmupDurationSecs", use "warmup" instead');
    checkDuration(v, [...path, "warmupDurationSecs"], lb.warmupDurationSecs);
    if (lb.warmup != null) v.error([...path, "warmup"], "Invalid value: only one of warmupDurationSecs or warmup may be set");
  }
  const warmup = readObject(v, [...path, "warmup"], lb.warmup);
  if (warmup) {
    const at = [...path, "warmup"];
    checkKnownFields(v, at, warmup, ["duration", "minimumPercent", "aggression"]);
    if (warmup.duration == null) v.error([...at, "duration"], "Required value: warmup duration is required");
    else checkDuration(v, [...at, "duration"], warmup.duration);
    const min = readWrappedNumber(v, [...at, "minimumPercent"], warmup.minimumPercent);
    if (min !== undefined && (min < 0 || min > 100)) v.error([...at, "minimumPercent"], `Invalid value: minimumPercent ${min} must be in range 0..100`);
    const aggr = readWrappedNumber(v, [...at, "aggression"], warmup.aggression);
    if (aggr !== undefined && aggr <= 0) v.error([...at, "aggression"], `Invalid value: aggression ${aggr} must be greater than 0`);
    if (simple !== undefined && simple !== "ROUND_ROBIN" && simple !== "LEAST_REQUEST" && simple !== "LEAST_CONN" && simple !== "UNSPECIFIED") {
      v.warn(at, `warmup only applies to ROUND_ROBIN and LEAST_REQUEST, not ${simple}`);
    }
  }
}

function checkConsistentHash(v: Validator, path: FieldPath, ch: JsonObject): void {
  checkKnownFields(v, path, ch, ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", "ringHash", "maglev", "minimumRingSize"]);
  const keys = (["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"] as const).filter((k) => ch[k] != null);
  if (keys.length > 1) v.error(path, `only one hash key may be set (found ${keys.join(" and ")})`);
  readString(v, [...path, "httpHeaderName"], ch.httpHeaderName);
  readBool(v, [...path, "useSourceIp"], ch.useSourceIp);
  readString(v, [...path, "httpQueryParameterName"], ch.httpQueryParameterName);
  const cookie = readObject(v, [...path, "httpCookie"], ch.httpCookie);
  if (cookie) {
    const at = [...path, "httpCookie"];
    checkKnownFields(v, at, cookie, ["name", "path", "ttl", "attributes"]);
    if ((readString(v, [...at, "name"], cookie.name) ?? "") === "") v.error([...at, "name"], "name required for HttpCookie");
    readString(v, [...at, "path"], cookie.path);
    if (cookie.ttl != null) checkDuration(v, [...at, "ttl"], cookie.ttl, { allowZero: true });
    const seen = new Set<string>();
    readArray(v, [...at, "attributes"], cookie.attributes)?.forEach((a, i) => {
      const attr = readObject(v, [...at, "attributes", i], a);
      if (!attr) return;
      checkKnownFields(v, [...at, "attributes", i], attr, ["name", "value"]);
      const name = readString(v, [...at, "attributes", i, "name"], attr.name) ?? "";
      readString(v, [...at, "attributes", i, "value"], attr.value);
      if (name === "") v.error([...at, "attributes", i, "name"], "cookie attribute name cannot be empty");
      else if (seen.has(name)) v.error([...at, "attributes", i, "name"], `duplicate cookie attribute name: ${name}`);
      seen.add(name);
    });
  }
  if (ch.ringHash != null && ch.maglev != null) v.error(path, "only one of ringHash or maglev may be set");
  const minRing = readInt(v, [...path, "minimumRingSize"], ch.minimumRingSize, UINT32);
  if (minRing !== undefined && minRing !== 0) {
    v.deprecated([...path, "minimumRingSize"], "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead");
    if (ch.ringHash != null || ch.maglev != null) v.error(path, "only one of MinimumRingSize or Maglev/Ringhash can be specified");
  }
  const ring = readObject(v, [...path, "ringHash"], ch.ringHash);
  if (ring) {
    checkKnownFields(v, [...path, "ringHash"], ring, ["minimumRingSize"]);
    readInt(v, [...path, "ringHash", "minimumRingSize"], ring.minimumRingSize, UINT32);
  }
  const maglev = readObject(v, [...path, "maglev"], ch.maglev);
  if (maglev) {
    const at = [...path, "maglev", "tableSize"];
    checkKnownFields(v, [...path, "maglev"], maglev, ["tableSize"]);
    const size = readInt(v, at, maglev.tableSize ?? 0, { min: 0 });
    if (size !== undefined) {
      if (size === 0) v.error(at, "tableSize must be set for maglev");
      if (size >= MAGLEV_TABLE_SIZE_LIMIT) v.error(at, `tableSize must be less than ${MAGLEV_TABLE_SIZE_LIMIT} for maglev`);
      if (!isPrime(size)) v.error(at, "tableSize must be a prime number for maglev");
    }
  }
}
