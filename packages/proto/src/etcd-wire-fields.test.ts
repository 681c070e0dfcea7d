import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { etcdserverpb, protobuf, UnsafeIntegerError } from "./index.js";
import { messageField, readVarint, topLevelFields, uint64Field, withoutFields } from "./etcd-wire.js";

/** A StatusResponse as real etcd sends it: ids above 2^53 in the header and in `leader`. */
function etcdLikeStatus(memberId: bigint, leaderId: bigint): Uint8Array {
  const w = protobuf.Writer.create();
  const header = protobuf.Writer.create();
  header.uint32((1 << 3) | 0).uint64(bigToLongBits(0xfedcba9876543210n)); // cluster_id
  header.uint32((2 << 3) | 0).uint64(bigToLongBits(memberId)); // member_id
  header.uint32((3 << 3) | 0).int64(42); // revision
  const headerBytes = header.finish();
  w.uint32((1 << 3) | 2).bytes(headerBytes);
  w.uint32((2 << 3) | 2).string("3.4.23");
  w.uint32((4 << 3) | 0).uint64(bigToLongBits(leaderId));
  w.uint32((5 << 3) | 0).uint64(1234);
  w.uint32((7 << 3) | 0).uint64(1230);
  return w.finish();
}

function bigToLongBits(v: bigint): { low: number; high: number; unsigned: boolean } {
  return { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true };
}

describe("wire", () => {
  it("reads a varint above 2^53 exactly", () => {
    const bytes = protobuf.Writer.create().uint64(bigToLongBits(0xffffffffffffffffn)).finish();
    assert.equal(readVarint(bytes, 0).value, 0xffffffffffffffffn);
  });

  it("shows why the bench needs it: the generated codec refuses etcd's 64-bit ids", () => {
    assert.throws(() => etcdserverpb.StatusResponse.decode(etcdLikeStatus(0xa1b2c3d4e5f60718n, 0xa1b2c3d4e5f60718n)), UnsafeIntegerError);
  });

  it("reads the ids and lets the generated codec decode the rest", () => {
    const bytes = etcdLikeStatus(0xa1b2c3d4e5f60718n, 0x1122334455667788n);
    const header = messageField(bytes, 1);
    assert.ok(header !== null);
    assert.equal(uint64Field(header, 2), 0xa1b2c3d4e5f60718n);
    assert.equal(uint64Field(bytes, 4), 0x1122334455667788n);
    const rest = etcdserverpb.StatusResponse.decode(withoutFields(bytes, new Set([1, 4])));
    assert.equal(rest.version, "3.4.23");
    assert.equal(rest.raftIndex, 1234);
    assert.equal(rest.raftAppliedIndex, 1230);
  });

  it("returns the same bytes when no field is removed", () => {
    const bytes = etcdserverpb.PutRequest.encode({ key: Buffer.from("k"), value: Buffer.from("v") }).finish();
    assert.equal(withoutFields(bytes, new Set([9])), bytes);
  });

  it("rejects a message whose field runs past its end", () => {
    const bytes = Uint8Array.from([(1 << 3) | 2, 5, 1, 2]);
    assert.throws(() => [...topLevelFields(bytes)], { name: "WireFormatError" });
  });
});
