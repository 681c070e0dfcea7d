import { test } from "node:test";
import assert from "node:assert/strict";
import { compareBytes, fromByteString, keySpan, prefixRangeEnd, spanContains, spansIntersect, toByteString } from "./bytes.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");

test("byte strings round-trip every byte value and order like bytes", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(Uint8Array.from(fromByteString(toByteString(all))), all);
  const pairs: [string, string][] = [
    ["a", "b"],
    ["a", "ab"],
    ["\x7f", "\x80"],
    ["\xfe\xff", "\xff"],
  ];
  for (const [lo, hi] of pairs) {
    assert.ok(lo < hi);
    assert.equal(compareBytes(b(lo), b(hi)), -1);
  }
});

test("prefix range end increments the last byte below 0xff", () => {
  assert.deepEqual(Buffer.from(prefixRangeEnd(b("aa"))), b("ab"));
  assert.deepEqual(Buffer.from(prefixRangeEnd(b("a\xff"))), b("b"));
  assert.deepEqual(Buffer.from(prefixRangeEnd(b("\xff\xff"))), b("\x00"), "no upper bound: \\0");
});

test("key spans follow etcd's range_end conventions", () => {
  assert.deepEqual(keySpan(b("k"), undefined), { start: "k", end: undefined });
  assert.deepEqual(keySpan(b("k"), b("\x00")), { start: "k", end: null });
  assert.deepEqual(keySpan(b("k"), b("m")), { start: "k", end: "m" });
  assert.ok(spanContains({ start: "k", end: null }, "zzz"));
  assert.ok(!spanContains({ start: "k", end: "m" }, "m"));
  assert.ok(spansIntersect({ start: "a", end: "c" }, { start: "b", end: undefined }));
  assert.ok(!spansIntersect({ start: "a", end: "c" }, { start: "c", end: null }));
  assert.ok(spansIntersect({ start: "a", end: null }, { start: "x", end: "y" }));
});
