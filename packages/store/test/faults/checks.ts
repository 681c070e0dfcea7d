/**
 * The checks besides linearizability, as pure functions over what the run recorded and read.
 *
 * Durability ("every acknowledged write is present afterwards"): after the faults, each key's
 * final value is read (linearizably, and recorded in the history so the checker also places it).
 * Writes are unique values, so the final value names the write that produced it, W. Then:
 *  - a final value that no put or compare-and-swap wrote is invented data;
 *  - an absent key that had an acknowledged write lost it;
 *  - an acknowledged write called after W was acknowledged had to take effect after W, so W's value
 *    cannot be the last one: that acknowledged write was lost.
 * Anything else is explained by some order, and the checker decides whether one fits everything.
 *
 * Convergence: after healing and settling, every member must serve the same revision and the same
 * value for every key from its own copy (serializable reads), equal to the linearizable final value.
 */
import type { KvOperation } from "@coxswain/lincheck";

/** One member's own copy after the run: revision and key → value (null when absent). */
export interface MemberSnapshot {
  member: string;
  revision: number;
  values: ReadonlyMap<string, string | null>;
}

function writtenValue(op: KvOperation): string | null {
  return op.input.type === "put" || op.input.type === "cas" ? op.input.value : null;
}

/** An acknowledged write took effect: an answered put, or a compare-and-swap answered "ok". */
function isAcknowledgedWrite(op: KvOperation): boolean {
  return (op.input.type === "put" && op.output.type === "put") || (op.input.type === "cas" && op.output.type === "cas" && op.output.ok);
}

/** Problems found by the durability check, one line each; empty when none. */
export function findLostWrites(history: readonly KvOperation[], finalValues: ReadonlyMap<string, string | null>): string[] {
  const problems: string[] = [];
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    if (writtenValue(op) === null) continue;
    let ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, (ops = []));
    ops.push(op);
  }
  for (const [key, finalValue] of finalValues) {
    const writes = byKey.get(key) ?? [];
    const acknowledged = writes.filter(isAcknowledgedWrite);
    if (finalValue === null) {
      const first = acknowledged[0];
      if (first !== undefined) {
        problems.push(`key ${JSON.stringify(key)} is absent, but ${acknowledged.length} writes to it were acknowledged (first: ${describe(first)})`);
      }
      continue;
    }
    // A compare-and-swap answered "failed" wrote nothing; every other write (acknowledged or unknown) may have.
    const producer = writes.find((op) => writtenValue(op) === finalValue && !(op.output.type === "cas" && !op.output.ok));
    if (producer === undefined) {
      problems.push(`key ${JSON.stringify(key)} holds ${JSON.stringify(finalValue)}, which no write that may have taken effect wrote`);
      continue;
    }
    for (const op of acknowledged) {
      if (op !== producer && op.callMs > producer.returnMs) {
        problems.push(
          `key ${JSON.stringify(key)}: acknowledged ${describe(op)} is lost — it began after ${describe(producer)} was acknowledged, yet the final value is ${JSON.stringify(finalValue)}`,
        );
      }
    }
  }
  return problems;
}

/** Problems found by comparing the members' own copies with each other and with the final values. */
export function findDivergence(snapshots: readonly MemberSnapshot[], finalValues: ReadonlyMap<string, string | null>): string[] {
  const problems: string[] = [];
  const revisions = new Set(snapshots.map((s) => s.revision));
  if (revisions.size > 1) problems.push(`members report different revisions: ${snapshots.map((s) => `${s.member}=${s.revision}`).join(", ")}`);
  for (const [key, finalValue] of finalValues) {
    const differing = snapshots.filter((s) => (s.values.get(key) ?? null) !== finalValue);
    if (differing.length > 0) {
      problems.push(
        `key ${JSON.stringify(key)}: final value ${JSON.stringify(finalValue)}, but ${differing.map((s) => `${s.member} has ${JSON.stringify(s.values.get(key) ?? null)}`).join(", ")}`,
      );
    }
  }
  return problems;
}

function describe(op: KvOperation): string {
  const what =
    op.input.type === "cas" ? `cas(${JSON.stringify(op.input.expected)} -> ${JSON.stringify(op.input.value)})` : `put(${JSON.stringify(writtenValue(op))})`;
  const when = `[${op.callMs.toFixed(1)}, ${Number.isFinite(op.returnMs) ? op.returnMs.toFixed(1) : "?"}] ms`;
  return `client ${op.clientId}'s ${what} ${when}`;
}
