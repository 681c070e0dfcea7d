/**
 * The project's one decision about 64-bit integers (docs/decisions/64-bit-integers.md):
 * every int64/uint64 on the wire is a JS `number` in memory. Terms, indexes, revisions, lease and
 * member ids all stay below 2^53 (ids Coxswain generates are drawn below it), so no precision is
 * lost; a peer that sends a larger value gets a decode error instead of a silently rounded number.
 */
import protobuf from "protobufjs/minimal.js";

export class UnsafeIntegerError extends RangeError {
  override readonly name = "UnsafeIntegerError";
}

let configured = false;

export function configureLongs(): void {
  if (configured) return;
  configured = true;
  const util = protobuf.util as unknown as { Long: unknown; LongBits: { prototype: { toNumber(unsigned: boolean): number; lo: number; hi: number } } };
  util.Long = null;
  protobuf.configure();
  const proto = util.LongBits.prototype;
  proto.toNumber = function toSafeNumber(this: { lo: number; hi: number }, unsigned: boolean): number {
    const lo = this.lo >>> 0;
    const hi = this.hi >>> 0;
    if (!unsigned && hi >>> 31) {
      // Negative: two's complement; magnitude must also fit in 53 bits.
      const nlo = (~lo + 1) >>> 0;
      let nhi = ~hi >>> 0;
      if (nlo === 0) nhi = (nhi + 1) >>> 0;
      if (nhi > 0x1fffff) throw new UnsafeIntegerError("int64 value below -(2^53-1) cannot be represented");
      return -(nlo + nhi * 4294967296);
    }
    if (hi > 0x1fffff) throw new UnsafeIntegerError("64-bit value above 2^53-1 cannot be represented");
    return lo + hi * 4294967296;
  };
}
