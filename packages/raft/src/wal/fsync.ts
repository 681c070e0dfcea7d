/** Small file helpers shared by the WAL and the snapshotter. */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { assert } from "../core/assert.js";

/**
 * Makes a directory's entries (files created, renamed or removed in it) durable. Without it a new
 * segment or snapshot file can vanish after a power loss even though its contents were synced.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of buf at position, looping over short writes. */
export async function writeFully(handle: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < buf.byteLength) {
    const { bytesWritten } = await handle.write(buf, written, buf.byteLength - written, position + written);
    assert(bytesWritten > 0, "write made no progress");
    written += bytesWritten;
  }
}
