/**
 * The state machine's snapshot: everything every member replicates (keys with their retained
 * versions, revision counters, leases, alarms, members), as the coxswain.store snapshot records.
 *
 * Layout: a length-prefixed SnapshotHeader, then length-prefixed SnapshotChunks of bounded size,
 * the last of which is empty but for `last` and a CRC-32 of every byte before it. Writing and
 * reading work chunk by chunk, so a large store never needs one giant protobuf message, and a
 * damaged or truncated snapshot is refused whole before any state is touched.
 */
import { crc32 } from "node:zlib";
import { protobuf, storepb, type etcdserverpbTypes, type storepbTypes } from "@coxswain/proto";
import { fromByteString, toByteString, type ByteString } from "../bytes.js";
import { memberFromProto, memberToProto, type MemberRecord } from "../cluster/members.js";
import type { LeaseSnapshotRecord } from "../lease/lessor.js";
import { KeyVersion } from "../mvcc/key-history.js";
import { SnapshotCorruptError } from "../mvcc/store.js";
import type { AlarmMember } from "./alarms.js";

export { SnapshotCorruptError };

export const SNAPSHOT_FORMAT = 1;
/** A chunk is closed once its keys and values reach this many bytes. */
export const SNAPSHOT_CHUNK_BYTES_TARGET = 1024 * 1024;
/** Leases per chunk. */
export const SNAPSHOT_CHUNK_LEASES_MAX = 10_000;

export interface SnapshotContents {
  currentRevision: number;
  compactRevision: number;
  sizeBytes: number;
  leaseIdSequence: number;
  alarms: AlarmMember[];
  members: MemberRecord[];
  removedMemberIds: number[];
  leases: LeaseSnapshotRecord[];
  /** Key order, versions oldest first. */
  histories: { key: ByteString; versions: KeyVersion[] }[];
}

export interface SnapshotSource {
  currentRevision: number;
  compactRevision: number;
  sizeBytes: number;
  leaseIdSequence: number;
  alarms: AlarmMember[];
  members: MemberRecord[];
  removedMemberIds: number[];
  leases: LeaseSnapshotRecord[];
  keyCount: number;
  forEachHistory(visit: (key: ByteString, versions: readonly KeyVersion[]) => void): void;
}

export function encodeSnapshot(source: SnapshotSource, chunkBytesTarget = SNAPSHOT_CHUNK_BYTES_TARGET): Uint8Array {
  const parts: Uint8Array[] = [];
  let crc = 0;
  let totalBytes = 0;
  const writeDelimited = (message: Uint8Array): void => {
    const framed = protobuf.Writer.create().bytes(message).finish();
    parts.push(framed);
    crc = crc32(framed, crc);
    totalBytes += framed.byteLength;
  };
  writeDelimited(
    storepb.SnapshotHeader.encode({
      format: SNAPSHOT_FORMAT,
      revision: source.currentRevision,
      compactRevision: source.compactRevision,
      keyCount: source.keyCount,
      leaseCount: source.leases.length,
      leaseIdSequence: source.leaseIdSequence,
      alarms: source.alarms.map((a) => ({ memberID: a.memberID, alarm: a.alarm })),
      members: source.members.map(memberToProto),
      sizeBytes: source.sizeBytes,
      removedMemberIds: source.removedMemberIds,
    }).finish(),
  );

  let keys: storepbTypes.IKeyHistory[] = [];
  let chunkBytes = 0;
  const flushKeys = (): void => {
    if (keys.length === 0) return;
    writeDelimited(storepb.SnapshotChunk.encode({ keys }).finish());
    keys = [];
    chunkBytes = 0;
  };
  source.forEachHistory((key, versions) => {
    keys.push({
      key: fromByteString(key),
      versions: versions.map((v) => ({
        modRevision: v.main,
        modSub: v.sub,
        createRevision: v.createRevision,
        version: v.version,
        value: fromByteString(v.value),
        lease: v.lease,
      })),
    });
    chunkBytes += key.length;
    for (const v of versions) chunkBytes += v.value.length + 32;
    if (chunkBytes >= chunkBytesTarget) flushKeys();
  });
  flushKeys();
  for (let i = 0; i < source.leases.length; i += SNAPSHOT_CHUNK_LEASES_MAX) {
    const leases = source.leases.slice(i, i + SNAPSHOT_CHUNK_LEASES_MAX).map((l) => ({
      id: l.id,
      ttl: l.ttlSeconds,
      remainingTtl: l.remainingTtlSeconds,
    }));
    writeDelimited(storepb.SnapshotChunk.encode({ leases }).finish());
  }
  const trailer = protobuf.Writer.create()
    .bytes(storepb.SnapshotChunk.encode({ last: true, crc32: crc }).finish())
    .finish();
  parts.push(trailer);
  totalBytes += trailer.byteLength;

  const out = new Uint8Array(totalBytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Decodes and checks a whole snapshot; throws SnapshotCorruptError on any damage. */
export function decodeSnapshot(data: Uint8Array): SnapshotContents {
  try {
    return decodeChecked(data);
  } catch (error) {
    if (error instanceof SnapshotCorruptError) throw error;
    throw new SnapshotCorruptError(`snapshot does not decode: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function decodeChecked(data: Uint8Array): SnapshotContents {
  const reader = protobuf.Reader.create(data);
  const header = storepb.SnapshotHeader.decode(reader.bytes());
  if (header.format !== SNAPSHOT_FORMAT) throw new SnapshotCorruptError(`snapshot format ${header.format} is not ${SNAPSHOT_FORMAT}`);
  const histories: SnapshotContents["histories"] = [];
  const leases: LeaseSnapshotRecord[] = [];
  for (;;) {
    if (reader.pos >= data.byteLength) throw new SnapshotCorruptError("snapshot is truncated (no final chunk)");
    const chunkStart = reader.pos;
    const chunk = storepb.SnapshotChunk.decode(reader.bytes());
    if (chunk.last) {
      const expected = crc32(data.subarray(0, chunkStart));
      if (chunk.crc32 !== expected) throw new SnapshotCorruptError("snapshot checksum mismatch");
      break;
    }
    for (const k of chunk.keys) histories.push(decodeHistory(k));
    for (const l of chunk.leases) {
      if (!l.id) throw new SnapshotCorruptError("snapshot lease without id");
      leases.push({ id: l.id, ttlSeconds: l.ttl ?? 0, remainingTtlSeconds: l.remainingTtl ?? 0 });
    }
  }
  if (reader.pos !== data.byteLength) throw new SnapshotCorruptError("snapshot has bytes after its final chunk");
  if (histories.length !== header.keyCount) throw new SnapshotCorruptError(`snapshot holds ${histories.length} keys, header says ${header.keyCount}`);
  if (leases.length !== header.leaseCount) throw new SnapshotCorruptError(`snapshot holds ${leases.length} leases, header says ${header.leaseCount}`);
  return {
    currentRevision: header.revision,
    compactRevision: header.compactRevision,
    sizeBytes: header.sizeBytes,
    leaseIdSequence: header.leaseIdSequence,
    alarms: header.alarms.map((a: etcdserverpbTypes.IAlarmMember) => ({ memberID: a.memberID ?? 0, alarm: a.alarm ?? 0 })),
    members: header.members.map(memberFromProto),
    removedMemberIds: [...header.removedMemberIds],
    leases,
    histories,
  };
}

function decodeHistory(k: storepbTypes.IKeyHistory): { key: ByteString; versions: KeyVersion[] } {
  const key = toByteString(k.key);
  const versions = (k.versions ?? []).map(
    (v) =>
      new KeyVersion(
        key,
        v.modRevision ?? 0,
        v.modSub ?? 0,
        v.createRevision ?? 0,
        v.version ?? 0,
        v.version ? toByteString(v.value) : "",
        v.version ? (v.lease ?? 0) : 0,
      ),
  );
  return { key, versions };
}
