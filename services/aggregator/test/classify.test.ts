import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  attributeAdjustedCount,
  DEFAULT_GRPC_ERROR_CODES,
  isCallError,
  isServiceError,
  routeOf,
  STATUS_2XX,
  STATUS_3XX,
  STATUS_401,
  STATUS_403,
  STATUS_4XX,
  STATUS_5XX,
  STATUS_GRPC_ERROR,
  statusBits,
  thresholdAdjustedCount,
  tracestateAdjustedCount,
  virtualPeerOf,
} from "../src/index.ts";

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;
const UNSET = 0;
const OK = 1;
const ERROR = 2;
const grpcErrors = new Set(DEFAULT_GRPC_ERROR_CODES);

describe("sampling weight (OTel tracestate probability sampling)", () => {
  test("th is the rejection threshold: adjusted count 2^56 / (2^56 - T), trailing zeros omitted", () => {
    assert.equal(thresholdAdjustedCount("0"), 1); // keeps everything
    assert.equal(thresholdAdjustedCount("8"), 2); // T = 0x80000000000000
    assert.equal(thresholdAdjustedCount("80000000000000"), 2);
    assert.equal(thresholdAdjustedCount("c"), 4);
    assert.equal(thresholdAdjustedCount("e"), 8);
    assert.equal(thresholdAdjustedCount("f"), 16);
    assert.equal(thresholdAdjustedCount("ffffffffffffff"), 2 ** 56);
    // The spec's 1% example: th:fd70a4 (threshold rounded to 6 digits) is about 1% (adjusted count ~100).
    const onePercent = thresholdAdjustedCount("fd70a4")!;
    assert.ok(Math.abs(onePercent - 100) < 0.001, String(onePercent));
    // 1/3 kept: T = 2^56 * 2/3 -> aaaaaaaaaaaaab
    assert.ok(Math.abs(thresholdAdjustedCount("aaaaaaaaaaaaab")! - 3) < 1e-12);
  });

  test("invalid thresholds are ignored", () => {
    for (const th of ["", "g", "8 ", "fffffffffffffff", "-1", "0x8", "AB"]) {
      assert.equal(thresholdAdjustedCount(th), undefined, JSON.stringify(th));
    }
  });

  test("the ot member is found among other vendors' members, sub-keys separated by ;", () => {
    assert.equal(tracestateAdjustedCount("ot=th:8"), 2);
    assert.equal(tracestateAdjustedCount("congo=t61rcWkgMzE, ot=rv:1234567890abcd;th:c"), 4);
    assert.equal(tracestateAdjustedCount("ot=th:c;rv:0123456789abcd,rojo=00f067aa0ba902b7"), 4);
    assert.equal(tracestateAdjustedCount("rojo=00f067aa0ba902b7"), undefined);
    assert.equal(tracestateAdjustedCount("ot=rv:0123456789abcd"), undefined); // no threshold: unknown
    assert.equal(tracestateAdjustedCount("xot=th:8"), undefined);
    assert.equal(tracestateAdjustedCount(""), undefined);
  });

  test("the older p-value form: probability 2^-p, p = 63 is unknown", () => {
    assert.equal(tracestateAdjustedCount("ot=p:0"), 1);
    assert.equal(tracestateAdjustedCount("ot=p:3;r:10"), 8);
    assert.equal(tracestateAdjustedCount("ot=p:63"), undefined);
    assert.equal(tracestateAdjustedCount("ot=p:2;th:0"), 1); // th wins
  });

  test("a threshold's adjusted count is 1 / probability for any 56-bit threshold", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }), (t) => {
        const th = t.toString(16).padStart(14, "0").replace(/0+$/, "") || "0";
        const probability = Number((1n << 56n) - t) / 2 ** 56;
        const adjusted = thresholdAdjustedCount(th)!;
        assert.ok(Math.abs(adjusted * probability - 1) < 1e-12);
      }),
    );
  });

  test("sampler attributes when tracestate says nothing", () => {
    assert.equal(attributeAdjustedCount({ adjustedCount: 10 }), 10);
    assert.equal(attributeAdjustedCount({ probability: 0.25 }), 4);
    assert.equal(attributeAdjustedCount({ probability: "0.5" }), 2);
    assert.equal(attributeAdjustedCount({ samplerType: "probabilistic", samplerParam: 0.1 }), 10);
    assert.equal(attributeAdjustedCount({ samplerType: "const", samplerParam: 1 }), undefined);
    assert.equal(attributeAdjustedCount({ probability: 0 }), undefined);
    assert.equal(attributeAdjustedCount({ probability: 1.5 }), undefined);
    assert.equal(attributeAdjustedCount({}), undefined);
  });
});

describe("span classification", () => {
  test("status classes: 4xx includes 401 and 403, gRPC codes other than OK are grpcErrors", () => {
    assert.equal(statusBits(200, -1), STATUS_2XX);
    assert.equal(statusBits(204, -1), STATUS_2XX);
    assert.equal(statusBits(302, -1), STATUS_3XX);
    assert.equal(statusBits(404, -1), STATUS_4XX);
    assert.equal(statusBits(401, -1), STATUS_4XX | STATUS_401);
    assert.equal(statusBits(403, -1), STATUS_4XX | STATUS_403);
    assert.equal(statusBits(503, -1), STATUS_5XX);
    assert.equal(statusBits(0, 0), 0);
    assert.equal(statusBits(0, 5), STATUS_GRPC_ERROR);
    assert.equal(statusBits(100, -1), 0);
    assert.equal(statusBits(700, -1), 0);
  });

  test("a service's error: status ERROR, HTTP >= 500 on a SERVER span, or a gRPC code in the set", () => {
    const r = (kind: number, statusCode: number, httpStatus = 0, grpcStatus = -1) => ({ kind, statusCode, httpStatus, grpcStatus });
    assert.equal(isServiceError(r(SERVER, UNSET, 200), grpcErrors), false);
    assert.equal(isServiceError(r(SERVER, UNSET, 404), grpcErrors), false);
    assert.equal(isServiceError(r(SERVER, UNSET, 500), grpcErrors), true); // instrumentation forgot the status
    assert.equal(isServiceError(r(SERVER, ERROR), grpcErrors), true);
    assert.equal(isServiceError(r(CONSUMER, ERROR), grpcErrors), true);
    assert.equal(isServiceError(r(CONSUMER, OK, 503), grpcErrors), false); // only SERVER spans for the HTTP rule
    for (const code of [2, 4, 12, 13, 14, 15]) assert.equal(isServiceError(r(SERVER, UNSET, 0, code), grpcErrors), true, `grpc ${code}`);
    for (const code of [0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 16]) assert.equal(isServiceError(r(SERVER, UNSET, 0, code), grpcErrors), false, `grpc ${code}`);
    assert.equal(isServiceError(r(SERVER, UNSET, 0, 5), new Set([5])), true); // configurable
  });

  test("a call's error, from the caller: 4xx and non-error gRPC codes are the caller's business", () => {
    const r = (statusCode: number, httpStatus = 0, grpcStatus = -1) => ({ kind: CLIENT, statusCode, httpStatus, grpcStatus });
    assert.equal(isCallError(r(ERROR, 404), grpcErrors), false); // HTTP semconv: CLIENT ERROR for 4xx
    assert.equal(isCallError(r(ERROR, 401), grpcErrors), false);
    assert.equal(isCallError(r(ERROR, 503), grpcErrors), true);
    assert.equal(isCallError(r(UNSET, 502), grpcErrors), true);
    assert.equal(isCallError(r(ERROR), grpcErrors), true); // no response at all: timeout, refused
    assert.equal(isCallError(r(ERROR, 0, 5), grpcErrors), false); // NOT_FOUND
    assert.equal(isCallError(r(ERROR, 0, 14), grpcErrors), true); // UNAVAILABLE
    assert.equal(isCallError(r(UNSET, 200), grpcErrors), false);
  });

  test("routes from http.route, else rpc.service/rpc.method", () => {
    assert.equal(routeOf("/users/{id}", "svc", "Get"), "/users/{id}");
    assert.equal(routeOf(undefined, "pay.Payments", "Charge"), "pay.Payments/Charge");
    assert.equal(routeOf(undefined, undefined, "Charge"), "Charge");
    assert.equal(routeOf("", undefined, undefined), undefined);
    assert.equal(routeOf(undefined, "svc", undefined), undefined);
  });

  test("virtual peers: peer.service, then server.address, then db.system; types as servicegraph names them", () => {
    assert.deepEqual(virtualPeerOf(CLIENT, { peerService: "stripe", serverAddress: "api.stripe.com" }), { name: "stripe", connectionType: "virtual_node" });
    assert.deepEqual(virtualPeerOf(CLIENT, { serverAddress: "pg.billing", dbSystem: "postgresql" }), { name: "pg.billing", connectionType: "database" });
    assert.deepEqual(virtualPeerOf(CLIENT, { dbSystem: "redis" }), { name: "redis", connectionType: "database" });
    assert.deepEqual(virtualPeerOf(CLIENT, { netPeerName: "legacy.host" }), { name: "legacy.host", connectionType: "virtual_node" });
    assert.deepEqual(virtualPeerOf(PRODUCER, { messagingSystem: "kafka" }), { name: "kafka", connectionType: "messaging_system" });
    assert.deepEqual(virtualPeerOf(PRODUCER, { serverAddress: "broker-1" }), { name: "broker-1", connectionType: "messaging_system" });
    assert.equal(virtualPeerOf(CLIENT, {}), undefined);
  });
});
