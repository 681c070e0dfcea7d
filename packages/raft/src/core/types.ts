/**
 * The Raft core's vocabulary. Field names and numbering mirror proto/raft/raftpb.proto (the wire
 * and disk format); the enums are the generated ones, so there is one source of truth. These
 * interfaces are the required-field shapes the core works with; `satisfies` checks at the bottom
 * keep them assignable to the generated message types.
 */
import { raftpb, type raftpbTypes } from "@coxswain/proto";

export const MessageType = raftpb.MessageType;
export type MessageType = raftpbTypes.MessageType;
export const EntryType = raftpb.EntryType;
export type EntryType = raftpbTypes.EntryType;
export const ConfChangeType = raftpb.ConfChangeType;
export type ConfChangeType = raftpbTypes.ConfChangeType;

/** Node ids are positive; 0 means "nobody" (no vote, no leader). */
export const NONE = 0;

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

export interface ConfState {
  voters: number[];
  learners: number[];
}

export interface ConfChange {
  type: ConfChangeType;
  nodeId: number;
  context: Uint8Array;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export interface Message {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot: Snapshot | null;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { confState: { voters: [], learners: [] }, index: 0, term: 0 } };
}

export function isEmptySnapshot(s: Snapshot | null): boolean {
  return s === null || s.metadata.index === 0;
}

/** A message with every field at its zero value except those given. */
export function message(fields: Partial<Message> & Pick<Message, "type">): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: null,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

/** Approximate encoded size of an entry, used for byte limits on messages and batches. */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + 24;
}

export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MSG_HUP ||
    t === MessageType.MSG_BEAT ||
    t === MessageType.MSG_UNREACHABLE ||
    t === MessageType.MSG_SNAP_STATUS ||
    t === MessageType.MSG_CHECK_QUORUM
  );
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MSG_APP_RESP ||
    t === MessageType.MSG_VOTE_RESP ||
    t === MessageType.MSG_HEARTBEAT_RESP ||
    t === MessageType.MSG_UNREACHABLE ||
    t === MessageType.MSG_PRE_VOTE_RESP
  );
}

/** The vote response type that answers a vote request of the given type. */
export function voteResponseType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MSG_VOTE:
      return MessageType.MSG_VOTE_RESP;
    case MessageType.MSG_PRE_VOTE:
      return MessageType.MSG_PRE_VOTE_RESP;
    default:
      throw new Error(`not a vote message: ${MessageType[t]}`);
  }
}

// Compile-time proof that the core shapes encode with the generated codecs as they are.
const _entryCheck = (e: Entry): raftpbTypes.IEntry => e;
const _messageCheck = (m: Message): raftpbTypes.IMessage => m;
const _hardStateCheck = (h: HardState): raftpbTypes.IHardState => h;
const _snapshotCheck = (s: Snapshot): raftpbTypes.ISnapshot => s;
const _confChangeCheck = (c: ConfChange): raftpbTypes.IConfChange => c;
void _entryCheck;
void _messageCheck;
void _hardStateCheck;
void _snapshotCheck;
void _confChangeCheck;
