/**
 * Reassembles one incoming SendSnapshot stream. A snapshot travels as a header (the MsgSnap with
 * empty snapshot data) followed by contiguous data chunks of bounded size, so that no single gRPC
 * message is large and a big snapshot never blocks heartbeats on the message stream. Every chunk
 * is checked as it arrives: cluster token, contiguous offsets, one header, nothing after `last`,
 * and a cap on the total size; a violation throws and the stream is refused.
 */
import type { raftpbTypes } from "@coxswain/proto";
import { MessageType, type Message } from "../core/types.js";
import { assert } from "../core/assert.js";
import { ClusterTokenMismatchError, SnapshotTooLargeError, TransportDecodeError, messageFromWire, ownField } from "./wire.js";

export interface SnapshotAssemblerOptions {
  localId: number;
  clusterToken: string;
  /** Largest snapshot this node accepts, in bytes. */
  snapshotBytesMax: number;
}

export class SnapshotAssembler {
  private header: Message | null = null;
  private readonly chunks: Uint8Array[] = [];
  private sizeBytes = 0;
  private lastSeen = false;
  private chunkCount = 0;

  constructor(private readonly options: SnapshotAssemblerOptions) {
    assert(Number.isSafeInteger(options.snapshotBytesMax) && options.snapshotBytesMax > 0, "snapshotBytesMax must be a positive integer");
  }

  get receivedBytes(): number {
    return this.sizeBytes;
  }

  get receivedChunks(): number {
    return this.chunkCount;
  }

  get complete(): boolean {
    return this.lastSeen;
  }

  /** The sender of the snapshot, once the header has arrived (for logs). */
  get from(): number | null {
    return this.header?.from ?? null;
  }

  accept(chunk: raftpbTypes.SnapshotChunk.$Properties): void {
    const clusterToken = ownField(chunk, "clusterToken") ?? "";
    if (clusterToken !== this.options.clusterToken) {
      throw new ClusterTokenMismatchError(`snapshot chunk carries cluster token "${truncate(clusterToken)}", which is not this cluster's`);
    }
    if (this.lastSeen) throw new TransportDecodeError("snapshot chunk after the last one");
    const index = this.chunkCount;
    const wireHeader = ownField(chunk, "header");
    const hasHeader = wireHeader !== null && wireHeader !== undefined;
    if (index === 0) {
      if (!hasHeader) throw new TransportDecodeError("first snapshot chunk has no header");
      const header = messageFromWire(wireHeader, { localId: this.options.localId, snapshotAllowed: true });
      if (header.type !== MessageType.MSG_SNAP || header.snapshot === null) {
        throw new TransportDecodeError(`snapshot header must be a MSG_SNAP, got ${MessageType[header.type]}`);
      }
      if (header.snapshot.data.byteLength !== 0) throw new TransportDecodeError("snapshot header must carry empty snapshot data; data travels in chunks");
      this.header = header;
    } else if (hasHeader) {
      throw new TransportDecodeError(`snapshot chunk ${index} carries a second header`);
    }

    const data = ownField(chunk, "data") ?? new Uint8Array(0);
    const offset = ownField(chunk, "offset") ?? 0;
    const last = ownField(chunk, "last") === true;
    if (offset !== this.sizeBytes) throw new TransportDecodeError(`snapshot chunk ${index} starts at offset ${offset}, expected ${this.sizeBytes}`);
    // Empty chunks are allowed only as the header or the terminator, so the chunk count is bounded by the size cap.
    if (data.byteLength === 0 && index !== 0 && !last) throw new TransportDecodeError(`snapshot chunk ${index} is empty`);
    if (this.sizeBytes + data.byteLength > this.options.snapshotBytesMax) {
      throw new SnapshotTooLargeError(`snapshot exceeds ${this.options.snapshotBytesMax} bytes (received ${this.sizeBytes + data.byteLength} so far)`);
    }
    if (data.byteLength > 0) this.chunks.push(data);
    this.sizeBytes += data.byteLength;
    this.chunkCount++;
    this.lastSeen = last;
  }

  /** The MsgSnap with its snapshot data in one fresh buffer. Only after the last chunk. */
  finish(): Message {
    if (!this.lastSeen || this.header === null) throw new TransportDecodeError("snapshot stream ended before its last chunk");
    assert(this.header.snapshot !== null, "header is a MSG_SNAP with a snapshot");
    const data = new Uint8Array(this.sizeBytes);
    let at = 0;
    for (const c of this.chunks) {
      data.set(c, at);
      at += c.byteLength;
    }
    assert(at === this.sizeBytes, "chunks add up to the received size");
    this.chunks.length = 0;
    return { ...this.header, snapshot: { ...this.header.snapshot, data } };
  }
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}...` : s;
}
