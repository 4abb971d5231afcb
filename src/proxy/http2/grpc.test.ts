import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RF_NR, RF_UF, RF_UH, RF_UO, RF_UT } from "../request/response-flags.ts";
import { encodeGrpcMessage, grpcStatusForHttp, grpcStatusForLocalReply, isGrpcContentType, parseGrpcTimeout } from "./grpc.ts";

describe("gRPC helpers", () => {
  it("content types", () => {
    assert.equal(isGrpcContentType("application/grpc"), true);
    assert.equal(isGrpcContentType("application/grpc+proto"), true);
    assert.equal(isGrpcContentType("Application/GRPC"), true);
    assert.equal(isGrpcContentType("application/grpc-web"), false);
    assert.equal(isGrpcContentType("application/json"), false);
    assert.equal(isGrpcContentType(undefined), false);
  });

  it("grpc-timeout units, rounded up to whole ms; malformed values ignored", () => {
    const table: [string, number | undefined][] = [
      ["1H", 3_600_000],
      ["2M", 120_000],
      ["3S", 3000],
      ["150m", 150],
      ["1500u", 2],
      ["1n", 1],
      ["123456789S", undefined],
      ["10", undefined],
      ["-5m", undefined],
      ["5 s", undefined],
    ];
    for (const [v, want] of table) assert.equal(parseGrpcTimeout(v), want, v);
    assert.equal(parseGrpcTimeout(undefined), undefined);
  });

  it("local replies map to gRPC statuses by flag first, then by HTTP status", () => {
    assert.equal(grpcStatusForLocalReply(504, RF_UT), 4);
    assert.equal(grpcStatusForLocalReply(404, RF_NR), 12);
    for (const f of [RF_UH, RF_UF, RF_UO]) assert.equal(grpcStatusForLocalReply(503, f), 14);
    assert.equal(grpcStatusForLocalReply(403, 0), 7);
    assert.equal(grpcStatusForLocalReply(401, 0), 16);
    assert.equal(grpcStatusForLocalReply(429, 0), 14);
    assert.equal(grpcStatusForLocalReply(418, 0), 2);
    assert.equal(grpcStatusForHttp(200), 0);
  });

  it("grpc-message is percent-encoded", () => {
    assert.equal(encodeGrpcMessage("no healthy upstream"), "no healthy upstream");
    assert.equal(encodeGrpcMessage("100% ✓\n"), "100%25 %E2%9C%93%0A");
  });
});
