import assert from "node:assert/strict";
import { test } from "node:test";
import type { KvOperation } from "@coxswain/lincheck";
import { findDivergence, findLostWrites, type MemberSnapshot } from "./checks.js";

const put = (clientId: string, value: string, callMs: number, returnMs: number): KvOperation => ({
  clientId,
  input: { type: "put", key: "k", value },
  output: Number.isFinite(returnMs) ? { type: "put" } : { type: "unknown" },
  callMs,
  returnMs,
});

const cas = (clientId: string, expected: string | null, value: string, ok: boolean, callMs: number, returnMs: number): KvOperation => ({
  clientId,
  input: { type: "cas", key: "k", expected, value },
  output: { type: "cas", ok },
  callMs,
  returnMs,
});

test("a final value written by the last acknowledged write passes", () => {
  const history = [put("c1", "a", 0, 1), put("c2", "b", 2, 3)];
  assert.deepEqual(findLostWrites(history, new Map([["k", "b"]])), []);
});

test("an acknowledged write that began after the final value's write was acknowledged is reported lost", () => {
  const history = [put("c1", "a", 0, 1), put("c2", "b", 2, 3)];
  const problems = findLostWrites(history, new Map([["k", "a"]]));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /put\("b"\).* is lost/);
});

test("a write concurrent with the final value's write may be overwritten by it", () => {
  const history = [put("c1", "a", 0, 5), put("c2", "b", 1, 3)];
  assert.deepEqual(findLostWrites(history, new Map([["k", "a"]])), []);
});

test("a final value from a write whose outcome is unknown may be the last one", () => {
  const history = [put("c1", "a", 0, Infinity), put("c2", "b", 2, 3)];
  assert.deepEqual(findLostWrites(history, new Map([["k", "a"]])), []);
});

test("an absent key that had an acknowledged write is reported lost", () => {
  const problems = findLostWrites([put("c1", "a", 0, 1)], new Map([["k", null]]));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /is absent/);
});

test("a final value that no write could have produced is reported", () => {
  const history = [put("c1", "a", 0, 1), cas("c2", "a", "b", false, 2, 3)];
  const problems = findLostWrites(history, new Map([["k", "b"]]));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /no write that may have taken effect wrote/);
});

test("a successful compare-and-swap counts as an acknowledged write", () => {
  const history = [cas("c1", null, "a", true, 0, 1), put("c2", "b", 0, 0.5)];
  const problems = findLostWrites(history, new Map([["k", "b"]]));
  assert.deepEqual(problems, []);
  const later = [put("c2", "b", 0, 0.5), cas("c1", "b", "a", true, 1, 2)];
  assert.equal(findLostWrites(later, new Map([["k", "b"]])).length, 1);
});

test("members that agree with each other and with the final values do not diverge", () => {
  const values = new Map<string, string | null>([
    ["k", "a"],
    ["j", null],
  ]);
  const snapshots: MemberSnapshot[] = ["m1", "m2", "m3"].map((member) => ({ member, revision: 7, values }));
  assert.deepEqual(findDivergence(snapshots, values), []);
});

test("a member with another revision or another value diverges", () => {
  const finalValues = new Map<string, string | null>([["k", "a"]]);
  const snapshots: MemberSnapshot[] = [
    { member: "m1", revision: 7, values: finalValues },
    { member: "m2", revision: 6, values: new Map([["k", "z"]]) },
  ];
  const problems = findDivergence(snapshots, finalValues);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /different revisions: m1=7, m2=6/);
  assert.match(problems[1]!, /m2 has "z"/);
});
