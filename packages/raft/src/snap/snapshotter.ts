/**
 * Snapshot files: one file per snapshot, written atomically (temporary file, fsync, rename, fsync
 * of the directory) so a crash leaves either the whole new file or none, and checksummed so a
 * damaged file is noticed on load. Shaped after etcd's snap package.
 *
 * File name: <term as 16 hex digits>-<index as 16 hex digits>.snap
 * File layout (little endian):
 *   0   8   magic "COXSNAP1"
 *   8   4   crc32 of the payload
 *   12  4   reserved, zero
 *   16  8   payload length in bytes
 *   24  n   payload: raftpb.Snapshot (metadata and the state machine's data)
 */
import { open, readFile, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { raftpb } from "@coxswain/proto";
import { assert } from "../core/assert.js";
import type { Snapshot } from "../core/types.js";
import { isEmptySnapshot } from "../core/types.js";
import { createLogger, type Logger } from "../logging.js";
import { createDirectoryDurably, syncDirectory, writeFully } from "../wal/fsync.js";

const MAGIC = new TextEncoder().encode("COXSNAP1");
const HEADER_SIZE_BYTES = 24;
const TWO_POW_32 = 4294967296;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const TEMP_SUFFIX = ".tmp";
const BROKEN_SUFFIX = ".broken";

/** A snapshot file that failed its checks and was set aside (renamed to *.broken). */
export interface BrokenSnapshotReport {
  file: string;
  brokenFile: string;
  reason: string;
}

export interface SnapshotterOptions {
  /** Told about every damaged snapshot file set aside; by default a warning is logged. */
  onBroken?: (report: BrokenSnapshotReport) => void;
  /** Where the default onBroken logs (a logger for component "snap" if not given). */
  logger?: Logger;
}

export interface SnapshotFileName {
  index: number;
  term: number;
  file: string;
}

/** Why a snapshot file is unusable (internal: loaders report it and move on). */
class SnapshotFileError extends Error {
  override readonly name = "SnapshotFileError";
}

export function snapshotFileName(index: number, term: number): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}

export class Snapshotter {
  private readonly onBroken: (report: BrokenSnapshotReport) => void;

  constructor(
    readonly dir: string,
    options: SnapshotterOptions = {},
  ) {
    this.onBroken = options.onBroken ?? ((report) => (options.logger ?? createLogger("snap")).warn(report, "damaged snapshot file set aside"));
  }

  /** Writes the snapshot durably; resolves once the file and its name are on disk. */
  async save(snapshot: Snapshot): Promise<void> {
    assert(!isEmptySnapshot(snapshot), "an empty snapshot is never saved");
    await createDirectoryDurably(this.dir);
    const { index, term } = snapshot.metadata;
    const payload = raftpb.Snapshot.encode(snapshot).finish();
    const header = new Uint8Array(HEADER_SIZE_BYTES);
    const view = new DataView(header.buffer);
    header.set(MAGIC, 0);
    view.setUint32(8, crc32(payload), true);
    view.setUint32(16, payload.byteLength % TWO_POW_32, true);
    view.setUint32(20, Math.floor(payload.byteLength / TWO_POW_32), true);

    const path = join(this.dir, snapshotFileName(index, term));
    const tempPath = path + TEMP_SUFFIX;
    const file = await open(tempPath, "w");
    try {
      await writeFully(file, header, 0);
      await writeFully(file, payload, HEADER_SIZE_BYTES);
      await file.datasync();
    } catch (error) {
      await file.close();
      await unlink(tempPath).catch(() => undefined);
      throw error;
    }
    await file.close();
    await rename(tempPath, path);
    await syncDirectory(this.dir);
  }

  /** Snapshot files by name (not yet verified), newest first. Temporary files are not listed. */
  async list(): Promise<SnapshotFileName[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const found: SnapshotFileName[] = [];
    for (const name of names) {
      const match = SNAP_NAME.exec(name);
      if (match === null) continue;
      found.push({ term: Number.parseInt(match[1]!, 16), index: Number.parseInt(match[2]!, 16), file: join(this.dir, name) });
    }
    return found.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /**
   * The newest snapshot that passes its checks, or null if there is none. A damaged file is
   * reported, renamed to *.broken and the next older one tried.
   */
  async loadNewest(): Promise<Snapshot | null> {
    for (const candidate of await this.list()) {
      const snapshot = await this.loadFile(candidate);
      if (snapshot !== null) return snapshot;
    }
    return null;
  }

  /** The snapshot at exactly (index, term), or null if it is missing or damaged (then reported). */
  async loadAt(index: number, term: number): Promise<Snapshot | null> {
    return this.loadFile({ index, term, file: join(this.dir, snapshotFileName(index, term)) });
  }

  /**
   * Deletes all but the newest keepCountMax snapshot files, and leftover temporary files. Returns
   * how many snapshot files were deleted. Files set aside as *.broken are left for a person.
   */
  async prune(keepCountMax: number): Promise<number> {
    assert(keepCountMax >= 1, "prune keeps at least one snapshot");
    const names = await readdir(this.dir).catch((error: unknown) => {
      if (isNotFound(error)) return [] as string[];
      throw error;
    });
    let changed = false;
    for (const name of names) {
      if (name.endsWith(".snap" + TEMP_SUFFIX)) {
        await unlink(join(this.dir, name));
        changed = true;
      }
    }
    const stale = (await this.list()).slice(keepCountMax);
    for (const s of stale) await unlink(s.file);
    if (changed || stale.length > 0) await syncDirectory(this.dir);
    return stale.length;
  }

  private async loadFile(candidate: SnapshotFileName): Promise<Snapshot | null> {
    let buf: Buffer;
    try {
      buf = await readFile(candidate.file);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    try {
      return decodeSnapshotFile(buf, candidate);
    } catch (error) {
      if (!(error instanceof SnapshotFileError)) throw error;
      const brokenFile = candidate.file + BROKEN_SUFFIX;
      await rename(candidate.file, brokenFile);
      await syncDirectory(this.dir);
      this.onBroken({ file: candidate.file, brokenFile, reason: error.message });
      return null;
    }
  }
}

function decodeSnapshotFile(buf: Buffer, expected: SnapshotFileName): Snapshot {
  if (buf.byteLength < HEADER_SIZE_BYTES) throw new SnapshotFileError(`file of ${buf.byteLength} bytes is shorter than the header`);
  for (let i = 0; i < MAGIC.byteLength; i++) {
    if (buf[i] !== MAGIC[i]) throw new SnapshotFileError("bad magic");
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const payloadLength = view.getUint32(16, true) + view.getUint32(20, true) * TWO_POW_32;
  if (buf.byteLength !== HEADER_SIZE_BYTES + payloadLength) {
    throw new SnapshotFileError(`payload length ${payloadLength} does not match the file size ${buf.byteLength}`);
  }
  const payload = buf.subarray(HEADER_SIZE_BYTES);
  if (crc32(payload) !== view.getUint32(8, true)) throw new SnapshotFileError("checksum mismatch");
  let decoded: ReturnType<typeof raftpb.Snapshot.decode>;
  try {
    decoded = raftpb.Snapshot.decode(payload);
  } catch (error) {
    throw new SnapshotFileError(`payload does not decode: ${String(error)}`);
  }
  const metadata = decoded.metadata;
  if (metadata === null || metadata === undefined) throw new SnapshotFileError("snapshot has no metadata");
  if (metadata.index !== expected.index || metadata.term !== expected.term) {
    throw new SnapshotFileError(`file is named for (index ${expected.index}, term ${expected.term}) but holds (${metadata.index}, ${metadata.term})`);
  }
  const confState = metadata.confState;
  return {
    data: decoded.data,
    metadata: {
      index: metadata.index,
      term: metadata.term,
      confState: { voters: [...(confState?.voters ?? [])], learners: [...(confState?.learners ?? [])] },
    },
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === "ENOENT";
}
