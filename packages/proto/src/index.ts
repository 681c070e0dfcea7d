/** Generated protobuf types, one namespace per proto group. See scripts/gen-proto.mjs. */
import { configureLongs } from "./longs.js";
import raftGen from "../gen/raft.js";

configureLongs();

export { configureLongs, UnsafeIntegerError } from "./longs.js";
export const raftpb = raftGen.coxswain.raft;
export { default as protobuf } from "protobufjs/minimal.js";
// eslint-disable-next-line @typescript-eslint/no-namespace
export import raftpbTypes = raftGen.coxswain.raft;
