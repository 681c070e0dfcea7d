/**
 * Keys and values inside the store are "byte strings": JS strings holding one byte per character
 * (Node's latin1 encoding). Two reasons: JS compares strings by UTF-16 code unit, which for such
 * strings is exactly etcd's bytewise lexicographic key order; and V8 stores them as compact
 * one-byte strings (about 16 bytes of overhead) where a Uint8Array costs an ArrayBuffer, a view
 * and a backing store each. Bytes are converted at the edges: requests in, responses out.
 */
import { Buffer } from "node:buffer";

/** One character per byte (latin1); `<` on two of these is bytewise key order. */
export type ByteString = string;

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export function toByteString(bytes: Uint8Array | null | undefined): ByteString {
  if (!bytes || bytes.byteLength === 0) return "";
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.toString("latin1");
}

export function fromByteString(s: ByteString): Buffer {
  return Buffer.from(s, "latin1");
}

/** Bytewise lexicographic comparison, as Go's bytes.Compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * The smallest key greater than every key with this prefix (etcd's GetPrefixRangeEnd): the prefix
 * with its last byte below 0xff incremented and what follows dropped. A prefix of only 0xff bytes
 * (or an empty one) has no such key; "\0" then means "no upper bound".
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i]!;
    if (byte < 0xff) {
      const end = new Uint8Array(i + 1);
      end.set(prefix.subarray(0, i));
      end[i] = byte + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/**
 * A set of keys in etcd's request conventions. `end === undefined`: the single key `start`.
 * `end === null`: every key >= start (range_end "\0"). Otherwise [start, end).
 */
export interface KeySpan {
  readonly start: ByteString;
  readonly end: ByteString | null | undefined;
}

/** etcd's key + range_end pair: empty range_end = one key, "\0" = no upper bound. */
export function keySpan(key: Uint8Array | null | undefined, rangeEnd: Uint8Array | null | undefined): KeySpan {
  const start = toByteString(key);
  if (!rangeEnd || rangeEnd.byteLength === 0) return { start, end: undefined };
  if (rangeEnd.byteLength === 1 && rangeEnd[0] === 0) return { start, end: null };
  return { start, end: toByteString(rangeEnd) };
}

export function isSingleKey(span: KeySpan): boolean {
  return span.end === undefined;
}

export function spanContains(span: KeySpan, key: ByteString): boolean {
  if (span.end === undefined) return key === span.start;
  if (key < span.start) return false;
  return span.end === null || key < span.end;
}

/** True when the two spans share at least one key. */
export function spansIntersect(a: KeySpan, b: KeySpan): boolean {
  if (a.end === undefined) return spanContains(b, a.start);
  if (b.end === undefined) return spanContains(a, b.start);
  // Both are ranges [start, end) with end null = +infinity; an empty range intersects nothing.
  const aEmpty = a.end !== null && a.end <= a.start;
  const bEmpty = b.end !== null && b.end <= b.start;
  if (aEmpty || bEmpty) return false;
  const aBeforeB = a.end !== null && a.end <= b.start;
  const bBeforeA = b.end !== null && b.end <= a.start;
  return !aBeforeB && !bBeforeA;
}
