/**
 * Just enough of the protobuf wire format to read etcd's 64-bit identifiers.
 *
 * The generated codecs (@coxswain/proto) decode 64-bit fields as JS numbers and throw
 * UnsafeIntegerError above 2^53 (docs/decisions/64-bit-integers.md). Real etcd draws cluster and
 * member ids from the whole 64-bit range, so the header of almost every etcd response would fail to
 * decode. The test kit reads those ids here, as bigint, and removes the fields that hold them
 * before the generated codec sees the rest. (bench/src/store/wire.ts does the same for the bench;
 * packages do not import each other's sources, hence this small copy.)
 */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

/** A varint is at most 10 bytes (64 bits, 7 per byte). */
const VARINT_BYTES_MAX = 10;

interface Varint {
  value: bigint;
  /** Offset just after the varint. */
  next: number;
}

function readVarint(bytes: Uint8Array, offset: number): Varint {
  let value = 0n;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const at = offset + i;
    if (at >= bytes.length) throw new WireFormatError(`truncated varint at offset ${offset}`);
    const byte = bytes[at]!;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value: BigInt.asUintN(64, value), next: at + 1 };
  }
  throw new WireFormatError(`varint longer than ${VARINT_BYTES_MAX} bytes at offset ${offset}`);
}

interface WireField {
  fieldNumber: number;
  wireType: number;
  /** [start, end) is the whole field, tag included. */
  start: number;
  end: number;
  /** The value of a varint field; null otherwise. */
  varint: bigint | null;
  /** [payloadStart, end) is the payload of a length-delimited field. */
  payloadStart: number;
}

function* topLevelFields(bytes: Uint8Array): Generator<WireField> {
  let offset = 0;
  while (offset < bytes.length) {
    const tag = readVarint(bytes, offset);
    const fieldNumber = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (fieldNumber === 0) throw new WireFormatError(`field number 0 at offset ${offset}`);
    let end: number;
    let varint: bigint | null = null;
    let payloadStart = tag.next;
    switch (wireType) {
      case WireType.varint: {
        const v = readVarint(bytes, tag.next);
        varint = v.value;
        end = v.next;
        break;
      }
      case WireType.fixed64:
        end = tag.next + 8;
        break;
      case WireType.fixed32:
        end = tag.next + 4;
        break;
      case WireType.lengthDelimited: {
        const length = readVarint(bytes, tag.next);
        payloadStart = length.next;
        end = length.next + Number(length.value);
        break;
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} (field ${fieldNumber}) at offset ${offset}`);
    }
    if (end > bytes.length) throw new WireFormatError(`field ${fieldNumber} runs past the end of the message`);
    yield { fieldNumber, wireType, start: offset, end, varint, payloadStart };
    offset = end;
  }
}

/** The message without the given top-level fields (a copy only when something is removed). */
export function withoutFields(bytes: Uint8Array, fieldNumbers: ReadonlySet<number>): Uint8Array {
  const kept: Array<[number, number]> = [];
  let removed = false;
  for (const f of topLevelFields(bytes)) {
    if (fieldNumbers.has(f.fieldNumber)) removed = true;
    else kept.push([f.start, f.end]);
  }
  if (!removed) return bytes;
  const out = new Uint8Array(kept.reduce((sum, [s, e]) => sum + e - s, 0));
  let at = 0;
  for (const [s, e] of kept) {
    out.set(bytes.subarray(s, e), at);
    at += e - s;
  }
  return out;
}

/** The last occurrence of a top-level varint field (protobuf's "last one wins"), 0n when absent. */
export function uint64Field(bytes: Uint8Array, fieldNumber: number): bigint {
  let value = 0n;
  for (const f of topLevelFields(bytes)) if (f.fieldNumber === fieldNumber && f.varint !== null) value = f.varint;
  return value;
}

/** The payload of the last occurrence of a top-level length-delimited field, or null. */
export function messageField(bytes: Uint8Array, fieldNumber: number): Uint8Array | null {
  let payload: Uint8Array | null = null;
  for (const f of topLevelFields(bytes)) {
    if (f.fieldNumber === fieldNumber && f.wireType === WireType.lengthDelimited) payload = bytes.subarray(f.payloadStart, f.end);
  }
  return payload;
}
