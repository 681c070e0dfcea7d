/**
 * Reading one segment file back: every record verified, the torn tail of the last segment told
 * apart from corruption. The rules (README.md, "Recovery"):
 *
 * - A save is acknowledged only after its fdatasync, and the next save starts only after that, so
 *   at most the last batch of the last segment can be torn. Whatever is cut off is at most that
 *   batch, which nobody was told is durable.
 * - Damage followed by a valid record of a LATER batch means an acknowledged batch was damaged:
 *   corruption. Valid records of the SAME batch after the damage are a torn write whose pages
 *   reached the disk out of order, and are dropped with the rest of that batch.
 * - Non-last segments were synced whole before the next segment was created: any damage there is
 *   corruption. So is a damaged segment head, because a segment file only gets its name after its
 *   head is synced.
 */
import { WalCorruptError } from "./errors.js";
import { RECORD_ALIGNMENT_BYTES, RECORD_HEADER_SIZE_BYTES, RecordType, type WalRecord, looksLikeRecordHeader, readRecordAt } from "./record.js";

/** The record and batch sequence numbers the next record must carry. */
export interface SequenceExpectation {
  recordSeq: number;
  batchSeq: number;
}

export interface TornTail {
  offsetBytes: number;
  bytesDropped: number;
  reason: string;
}

export interface ScannedSegment {
  /** The records of complete batches, in order; the first is the segment header. */
  records: WalRecord[];
  /** Where the complete batches end: the file is truncated here if it is longer. */
  validEndBytes: number;
  tornTail: TornTail | null;
  /** What the first record of the next segment must carry. */
  next: SequenceExpectation;
}

/**
 * @param expected the sequence numbers the first record must carry, or null when no earlier
 *   segment exists to say (the oldest segment after a release)
 */
export function scanSegment(buf: Uint8Array, file: string, isLast: boolean, expected: SequenceExpectation | null): ScannedSegment {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: WalRecord[] = [];
  let offset = 0;
  let recordsInCompleteBatches = 0;
  let completeBatchesEndBytes = 0;
  let next: SequenceExpectation | null = expected;
  let damage: { offsetBytes: number; reason: string } | null = null;

  while (offset < buf.byteLength) {
    const result = readRecordAt(buf, view, offset);
    if (!result.ok) {
      damage = { offsetBytes: offset, reason: result.reason };
      break;
    }
    const record = result.record;
    const misplaced = misplacement(record, records.length === 0, next);
    if (misplaced !== null) {
      damage = { offsetBytes: offset, reason: misplaced };
      break;
    }
    records.push(record);
    offset += record.sizeBytes;
    next = { recordSeq: record.recordSeq + 1, batchSeq: record.batchEnd ? record.batchSeq + 1 : record.batchSeq };
    if (record.batchEnd) {
      recordsInCompleteBatches = records.length;
      completeBatchesEndBytes = offset;
    }
  }

  const complete = damage === null && records.length > 0 && completeBatchesEndBytes === buf.byteLength;
  if (complete && next !== null) {
    return { records, validEndBytes: buf.byteLength, tornTail: null, next };
  }
  const problem = damage ?? {
    offsetBytes: completeBatchesEndBytes,
    reason: buf.byteLength === 0 ? "the segment file is empty" : "the file ends inside a batch",
  };
  if (!isLast) {
    throw new WalCorruptError(file, problem.offsetBytes, `${problem.reason} (not the last segment, so it was synced)`);
  }
  if (completeBatchesEndBytes === 0 || next === null) {
    throw new WalCorruptError(file, problem.offsetBytes, `${problem.reason} in the segment head, which was synced`);
  }
  if (damage !== null) {
    const later = findRecordOfLaterBatch(buf, view, damage.offsetBytes + RECORD_ALIGNMENT_BYTES, next);
    if (later !== null) {
      throw new WalCorruptError(file, damage.offsetBytes, `${damage.reason}, yet a valid record of a later save follows at offset ${later.offsetBytes}`);
    }
  }
  // The batch being written was never acknowledged: drop it whole, so a save is all or nothing.
  const lastKept = records[recordsInCompleteBatches - 1]!;
  const afterLastComplete: SequenceExpectation = { recordSeq: lastKept.recordSeq + 1, batchSeq: lastKept.batchSeq + 1 };
  return {
    records: records.slice(0, recordsInCompleteBatches),
    validEndBytes: completeBatchesEndBytes,
    tornTail: {
      offsetBytes: completeBatchesEndBytes,
      bytesDropped: buf.byteLength - completeBatchesEndBytes,
      reason: problem.reason,
    },
    next: afterLastComplete,
  };
}

/** Why a record whose checksum is fine cannot be the next one here, or null if it can. */
function misplacement(record: WalRecord, first: boolean, expected: SequenceExpectation | null): string | null {
  if (expected !== null && record.recordSeq !== expected.recordSeq) {
    return `record sequence ${record.recordSeq} where ${expected.recordSeq} was expected`;
  }
  if (expected !== null && record.batchSeq !== expected.batchSeq) {
    return `batch sequence ${record.batchSeq} where ${expected.batchSeq} was expected`;
  }
  if (first && record.type !== RecordType.SEGMENT_HEADER) return "the segment does not start with a segment header";
  if (!first && record.type === RecordType.SEGMENT_HEADER) return "a segment header in the middle of a segment";
  return null;
}

/**
 * Searches the rest of the file, at every aligned offset, for a valid record written by a later
 * save than the one that was in progress at the damage. The pre-check rejects almost every offset
 * without computing a checksum, so this stays cheap even over a whole segment.
 */
function findRecordOfLaterBatch(buf: Uint8Array, view: DataView, from: number, inProgress: SequenceExpectation): WalRecord | null {
  const start = Math.ceil(from / RECORD_ALIGNMENT_BYTES) * RECORD_ALIGNMENT_BYTES;
  for (let offset = start; offset + RECORD_HEADER_SIZE_BYTES <= buf.byteLength; offset += RECORD_ALIGNMENT_BYTES) {
    if (!looksLikeRecordHeader(buf, offset)) continue;
    const result = readRecordAt(buf, view, offset);
    if (!result.ok) continue;
    const { record } = result;
    if (record.batchSeq > inProgress.batchSeq && record.recordSeq >= inProgress.recordSeq) return record;
  }
  return null;
}
