/** Small file helpers shared by the WAL and the snapshotter. */
import type { FileHandle } from "node:fs/promises";
import { mkdir, open } from "node:fs/promises";
import { dirname, resolve } from "node:path";
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

/**
 * mkdir -p that also makes the new directories' names durable: each new directory is an entry in
 * its parent, so every parent of a directory created here is synced, top down.
 */
export async function createDirectoryDurably(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  const top = resolve(firstCreated);
  const parents: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    parents.push(dirname(current));
    if (current === top) break;
  }
  for (const parent of parents.reverse()) await syncDirectory(parent);
}
