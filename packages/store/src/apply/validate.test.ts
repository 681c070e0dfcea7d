import { test } from "node:test";
import assert from "node:assert/strict";
import type { etcdserverpbTypes } from "@coxswain/proto";
import { DuplicateKeyError, EmptyKeyError, KeyNotFoundError, RequestTooLargeError, TooManyOpsError } from "../errors.js";
import { DEFAULT_REQUEST_LIMITS, txnHasWrites, validateRequestSize, validateTxnRequest } from "./validate.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const put = (key: string): etcdserverpbTypes.IRequestOp => ({ requestPut: { key: b(key), value: b("v") } });
const del = (key: string, end?: string): etcdserverpbTypes.IRequestOp => ({
  requestDeleteRange: { key: b(key), rangeEnd: end === undefined ? undefined : b(end) },
});
const txn = (success: etcdserverpbTypes.IRequestOp[], failure: etcdserverpbTypes.IRequestOp[] = []): etcdserverpbTypes.IRequestOp => ({
  requestTxn: { success, failure },
});

test("the txn operation cap applies to each list, and nested txns get what is left", () => {
  validateTxnRequest({ success: [put("a"), put("b")], failure: [put("c"), put("d")] }, 2);
  assert.throws(() => validateTxnRequest({ success: [put("a"), put("b"), put("c")] }, 2), TooManyOpsError);
  assert.throws(() => validateTxnRequest({ success: [txn([put("a"), put("b")])] }, 2), TooManyOpsError);
});

test("keys must be given everywhere in a txn", () => {
  assert.throws(() => validateTxnRequest({ compare: [{ key: b("") }] }, 128), EmptyKeyError);
  assert.throws(() => validateTxnRequest({ success: [txn([put("")])] }, 128), EmptyKeyError);
  assert.throws(() => validateTxnRequest({ success: [{}] }, 128), KeyNotFoundError);
});

test("a txn may not write a key twice on one path", () => {
  assert.throws(() => validateTxnRequest({ success: [put("a"), put("a")] }, 128), DuplicateKeyError);
  assert.throws(() => validateTxnRequest({ success: [del("a", "c"), put("b")] }, 128), DuplicateKeyError);
  assert.throws(() => validateTxnRequest({ success: [del("a", "\x00"), put("z")] }, 128), DuplicateKeyError);
  assert.throws(() => validateTxnRequest({ success: [put("a"), txn([put("a")])] }, 128), DuplicateKeyError);
  assert.throws(() => validateTxnRequest({ success: [del("a"), txn([], [put("a")])] }, 128), DuplicateKeyError);
  validateTxnRequest({ success: [txn([put("a")], [put("a")])] }, 128);
  validateTxnRequest({ success: [put("a")], failure: [put("a")] }, 128);
  validateTxnRequest({ success: [del("a", "c"), del("b", "d"), put("d")] }, 128);
});

test("requests over the size limit are refused with etcd's message", () => {
  validateRequestSize(DEFAULT_REQUEST_LIMITS.maxRequestBytes, DEFAULT_REQUEST_LIMITS);
  assert.throws(
    () => validateRequestSize(DEFAULT_REQUEST_LIMITS.maxRequestBytes + 1, DEFAULT_REQUEST_LIMITS),
    (e: unknown) => e instanceof RequestTooLargeError && e.grpcMessage === "etcdserver: request is too large",
  );
});

test("a txn writes when any branch at any depth puts or deletes", () => {
  assert.equal(txnHasWrites({ success: [{ requestRange: { key: b("a") } }] }), false);
  assert.equal(txnHasWrites({ failure: [txn([], [del("a")])] }), true);
});
