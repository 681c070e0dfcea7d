/** Conversion of stored versions to etcd's wire records (mvccpb.KeyValue and mvccpb.Event). */
import { mvccpb, type mvccpbTypes } from "@coxswain/proto";
import { EMPTY_BYTES, fromByteString } from "../bytes.js";
import type { KeyVersion } from "./key-history.js";

/** mvccpb.KeyValue with every field present. */
export interface KeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: number;
}

export interface Event {
  type: mvccpbTypes.Event.EventType;
  kv: KeyValue;
  prevKv?: KeyValue;
}

export function toKeyValue(v: KeyVersion, keysOnly = false): KeyValue {
  return {
    key: fromByteString(v.key),
    createRevision: v.createRevision,
    modRevision: v.main,
    version: v.version,
    value: keysOnly || v.value.length === 0 ? EMPTY_BYTES : fromByteString(v.value),
    lease: v.lease,
  };
}

/**
 * A change as a watch event. A deletion carries only the key and the revision of the deletion
 * (etcd leaves the other fields zero).
 */
export function toEvent(change: KeyVersion, prev: KeyVersion | undefined): Event {
  const event: Event =
    change.version === 0
      ? {
          type: mvccpb.Event.EventType.DELETE,
          kv: { key: fromByteString(change.key), createRevision: 0, modRevision: change.main, version: 0, value: EMPTY_BYTES, lease: 0 },
        }
      : { type: mvccpb.Event.EventType.PUT, kv: toKeyValue(change) };
  if (prev) event.prevKv = toKeyValue(prev);
  return event;
}

// Compile-time proof that these records encode with the generated codecs as they are.
const _kvCheck = (kv: KeyValue): mvccpbTypes.IKeyValue => kv;
const _eventCheck = (e: Event): mvccpbTypes.IEvent => e;
void _kvCheck;
void _eventCheck;
