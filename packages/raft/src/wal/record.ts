/**
 * The WAL's record format (see README.md in this folder for the picture and the reasons).
 *
 * Every record is 8-byte aligned and framed by a 32-byte header:
 *
 *   offset  size  field
 *   0       4     crc32 of bytes [4, end of padding): the rest of the header, payload, padding
 *   4       1     magic 0xC5
 *   5       1     record type (RecordType)
 *   6       1     flags; bit 0 = last record of its batch (one save() call)
 *   7       1     format version (1)
 *   8       4     payload length in bytes
 *   12      4     reserved, zero
 *   16      8     record sequence number, counting every record ever written, across segments
 *   24      8     batch sequence number, counting save() calls
 *   32      n     payload (protobuf for entries, hard states and snapshot markers)
 *   32+n    0..7  zero padding to the next multiple of 8
 *
 * The sequence numbers make every record's position part of what its checksum covers, so a record
 * that is reordered, replayed or left over from an older file cannot pass as the next one; the
 * batch number and flag let recovery tell a torn (never acknowledged) save from damage to a save
 * that was acknowledged.
 */
import { crc32 } from "node:zlib";
import { protobuf, raftpb } from "@coxswain/proto";
import { assert } from "../core/assert.js";
import type { Entry, HardState } from "../core/types.js";

export const RECORD_HEADER_SIZE_BYTES = 32;
export const RECORD_ALIGNMENT_BYTES = 8;
export const RECORD_MAGIC = 0xc5;
export const RECORD_FORMAT_VERSION = 1;
/** Largest payload a record may carry; also bounds what recovery will believe a length field. */
export const RECORD_PAYLOAD_SIZE_BYTES_MAX = 64 * 1024 * 1024;
/** Largest batch one save() may encode (the node loop batches far less than this). */
export const BATCH_SIZE_BYTES_MAX = 512 * 1024 * 1024;
/**
 * The encoder keeps its scratch buffer between saves to avoid allocating per save, but not one
 * grown past this by a rare huge batch.
 */
export const SCRATCH_RETAINED_SIZE_BYTES_MAX = 16 * 1024 * 1024;

export const RecordType = {
  /** First record of every segment: file magic, segment sequence, first index. */
  SEGMENT_HEADER: 1,
  ENTRY: 2,
  HARD_STATE: 3,
  /** "A snapshot at (index, term) is durable": raftpb.SnapshotMetadata with index and term. */
  SNAPSHOT_MARKER: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const RECORD_TYPE_MAX = RecordType.SNAPSHOT_MARKER;
const FLAG_BATCH_END = 1;
const FLAGS_KNOWN = FLAG_BATCH_END;
const TWO_POW_32 = 4294967296;
/** Largest high word of a u64 that is still a safe JS integer (2^53 - 1). */
const U64_HIGH_WORD_MAX = 0x1fffff;

/** The segment header payload: 8 bytes of file magic, u64 segment sequence, u64 first index. */
const SEGMENT_MAGIC = new TextEncoder().encode("COXSWAL1");
const SEGMENT_HEADER_PAYLOAD_SIZE_BYTES = 24;

const ZEROS = new Uint8Array(RECORD_HEADER_SIZE_BYTES);

export interface SnapshotMarker {
  index: number;
  term: number;
}

export interface SegmentHeader {
  segmentSeq: number;
  firstIndex: number;
}

/**
 * Encodes one batch of records into one contiguous buffer, so a save is one write() and one
 * fdatasync(). Payloads are encoded straight into the batch buffer (entry data is copied once,
 * from the caller's array into the buffer that is written); headers are reserved as zeros and
 * filled in, with their checksums, when the batch is finished.
 */
export class BatchEncoder {
  private writer: protobuf.Writer = protobuf.Writer.create();
  /** Per record of the batch being built: its start offset, payload length and type. */
  private readonly starts: number[] = [];
  private readonly payloadLengths: number[] = [];
  private readonly types: RecordType[] = [];
  private firstRecordSeq = 0;
  private batchSeq = 0;

  begin(firstRecordSeq: number, batchSeq: number): void {
    if (this.writer.buf.byteLength > SCRATCH_RETAINED_SIZE_BYTES_MAX) this.writer = protobuf.Writer.create();
    this.writer.reset();
    this.starts.length = 0;
    this.payloadLengths.length = 0;
    this.types.length = 0;
    this.firstRecordSeq = firstRecordSeq;
    this.batchSeq = batchSeq;
  }

  get recordCount(): number {
    return this.starts.length;
  }

  addEntry(entry: Entry): void {
    const payloadStart = this.startRecord(RecordType.ENTRY);
    raftpb.Entry.encode(entry, this.writer);
    this.endRecord(payloadStart);
  }

  addHardState(hardState: HardState): void {
    const payloadStart = this.startRecord(RecordType.HARD_STATE);
    raftpb.HardState.encode(hardState, this.writer);
    this.endRecord(payloadStart);
  }

  addSnapshotMarker(marker: SnapshotMarker): void {
    const payloadStart = this.startRecord(RecordType.SNAPSHOT_MARKER);
    raftpb.SnapshotMetadata.encode({ index: marker.index, term: marker.term }, this.writer);
    this.endRecord(payloadStart);
  }

  addSegmentHeader(header: SegmentHeader): void {
    const payloadStart = this.startRecord(RecordType.SEGMENT_HEADER);
    const payload = new Uint8Array(SEGMENT_HEADER_PAYLOAD_SIZE_BYTES);
    const view = new DataView(payload.buffer);
    payload.set(SEGMENT_MAGIC, 0);
    writeU64(view, 8, header.segmentSeq);
    writeU64(view, 16, header.firstIndex);
    this.writer.raw(payload);
    this.endRecord(payloadStart);
  }

  /**
   * Fills in the headers and checksums and returns the batch. The returned bytes are a view of
   * the encoder's scratch buffer: valid until the next begin().
   */
  finish(): Uint8Array {
    const count = this.starts.length;
    assert(count > 0, "a batch holds at least one record");
    const buf = this.writer.finish(true);
    assert(buf.byteLength <= BATCH_SIZE_BYTES_MAX, `batch of ${buf.byteLength} bytes exceeds BATCH_SIZE_BYTES_MAX`);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let k = 0; k < count; k++) {
      const start = this.starts[k]!;
      const payloadLength = this.payloadLengths[k]!;
      const end = start + recordSizeBytes(payloadLength);
      buf[start + 4] = RECORD_MAGIC;
      buf[start + 5] = this.types[k]!;
      buf[start + 6] = k === count - 1 ? FLAG_BATCH_END : 0;
      buf[start + 7] = RECORD_FORMAT_VERSION;
      view.setUint32(start + 8, payloadLength, true);
      view.setUint32(start + 12, 0, true);
      writeU64(view, start + 16, this.firstRecordSeq + k);
      writeU64(view, start + 24, this.batchSeq);
      view.setUint32(start, crc32(buf.subarray(start + 4, end)), true);
    }
    return buf;
  }

  private startRecord(type: RecordType): number {
    this.starts.push(this.writer.pos);
    this.types.push(type);
    this.writer.raw(ZEROS); // the header, filled in by finish()
    return this.writer.pos;
  }

  private endRecord(payloadStart: number): void {
    const payloadLength = this.writer.pos - payloadStart;
    assert(payloadLength <= RECORD_PAYLOAD_SIZE_BYTES_MAX, `record payload of ${payloadLength} bytes exceeds the cap`);
    this.payloadLengths.push(payloadLength);
    const padding = paddingBytes(payloadLength);
    if (padding > 0) this.writer.raw(ZEROS.subarray(0, padding));
  }
}

export function paddingBytes(payloadLength: number): number {
  return (RECORD_ALIGNMENT_BYTES - (payloadLength % RECORD_ALIGNMENT_BYTES)) % RECORD_ALIGNMENT_BYTES;
}

export function recordSizeBytes(payloadLength: number): number {
  return RECORD_HEADER_SIZE_BYTES + payloadLength + paddingBytes(payloadLength);
}

/** A record read back from a segment file; payload is a view of the file's buffer. */
export interface WalRecord {
  offsetBytes: number;
  sizeBytes: number;
  type: RecordType;
  batchEnd: boolean;
  recordSeq: number;
  batchSeq: number;
  payload: Uint8Array;
}

export type ReadResult = { ok: true; record: WalRecord } | { ok: false; reason: string };

/**
 * Reads and verifies the record at offset. A failure says why in words (it ends up in the
 * WalCorruptError or the torn-tail report).
 */
export function readRecordAt(buf: Uint8Array, view: DataView, offset: number): ReadResult {
  const available = buf.byteLength - offset;
  if (available < RECORD_HEADER_SIZE_BYTES) {
    return { ok: false, reason: `incomplete record header (${available} of ${RECORD_HEADER_SIZE_BYTES} bytes)` };
  }
  if (buf[offset + 4] !== RECORD_MAGIC) return { ok: false, reason: "bad record magic" };
  if (buf[offset + 7] !== RECORD_FORMAT_VERSION) return { ok: false, reason: `unknown format version ${buf[offset + 7]}` };
  const type = buf[offset + 5]!;
  if (type < 1 || type > RECORD_TYPE_MAX) return { ok: false, reason: `unknown record type ${type}` };
  const flags = buf[offset + 6]!;
  if ((flags & ~FLAGS_KNOWN) !== 0) return { ok: false, reason: `unknown record flags ${flags}` };
  const payloadLength = view.getUint32(offset + 8, true);
  if (payloadLength > RECORD_PAYLOAD_SIZE_BYTES_MAX) return { ok: false, reason: `implausible length ${payloadLength}` };
  if (view.getUint32(offset + 12, true) !== 0) return { ok: false, reason: "reserved header bytes are not zero" };
  const sizeBytes = recordSizeBytes(payloadLength);
  if (sizeBytes > available) {
    return { ok: false, reason: `incomplete record (${available} of ${sizeBytes} bytes)` };
  }
  const expectedCrc = view.getUint32(offset, true);
  if (crc32(buf.subarray(offset + 4, offset + sizeBytes)) !== expectedCrc) return { ok: false, reason: "checksum mismatch" };
  const recordSeq = readU64(view, offset + 16);
  const batchSeq = readU64(view, offset + 24);
  if (recordSeq === null || batchSeq === null) return { ok: false, reason: "sequence number out of range" };
  const payloadStart = offset + RECORD_HEADER_SIZE_BYTES;
  return {
    ok: true,
    record: {
      offsetBytes: offset,
      sizeBytes,
      type: type as RecordType,
      batchEnd: (flags & FLAG_BATCH_END) !== 0,
      recordSeq,
      batchSeq,
      payload: buf.subarray(payloadStart, payloadStart + payloadLength),
    },
  };
}

/**
 * Cheap pre-check used when searching damaged regions for later records: most garbage (and every
 * zero-filled block) fails on the first byte compared, before any checksum is computed.
 */
export function looksLikeRecordHeader(buf: Uint8Array, offset: number): boolean {
  if (buf[offset + 4] !== RECORD_MAGIC || buf[offset + 7] !== RECORD_FORMAT_VERSION) return false;
  const type = buf[offset + 5]!;
  return type >= 1 && type <= RECORD_TYPE_MAX && (buf[offset + 6]! & ~FLAGS_KNOWN) === 0;
}

export function decodeSegmentHeader(payload: Uint8Array): SegmentHeader | string {
  if (payload.byteLength !== SEGMENT_HEADER_PAYLOAD_SIZE_BYTES) return "segment header has the wrong size";
  for (let i = 0; i < SEGMENT_MAGIC.byteLength; i++) {
    if (payload[i] !== SEGMENT_MAGIC[i]) return "segment header lacks the file magic";
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const segmentSeq = readU64(view, 8);
  const firstIndex = readU64(view, 16);
  if (segmentSeq === null || firstIndex === null) return "segment header number out of range";
  return { segmentSeq, firstIndex };
}

export function decodeEntry(payload: Uint8Array): Entry {
  const e = raftpb.Entry.decode(payload);
  return { term: e.term, index: e.index, type: e.type, data: e.data };
}

export function decodeHardState(payload: Uint8Array): HardState {
  const h = raftpb.HardState.decode(payload);
  return { term: h.term, vote: h.vote, commit: h.commit };
}

export function decodeSnapshotMarker(payload: Uint8Array): SnapshotMarker {
  const m = raftpb.SnapshotMetadata.decode(payload);
  return { index: m.index, term: m.term };
}

function writeU64(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `u64 field holds a safe non-negative integer, got ${value}`);
  view.setUint32(offset, value % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_POW_32), true);
}

function readU64(view: DataView, offset: number): number | null {
  const high = view.getUint32(offset + 4, true);
  if (high > U64_HIGH_WORD_MAX) return null;
  return high * TWO_POW_32 + view.getUint32(offset, true);
}
