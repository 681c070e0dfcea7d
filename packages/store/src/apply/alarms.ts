/**
 * Raised alarms (etcd's alarm store), part of the replicated state: activating and disarming go
 * through the log. While NOSPACE is raised the applier refuses puts, txns that put, and lease
 * grants (etcd's "capped" applier); reads, deletes, revokes and compaction still work, so an
 * operator can free space and disarm it.
 */
import { etcdserverpb, type etcdserverpbTypes } from "@coxswain/proto";

export type AlarmType = etcdserverpbTypes.AlarmType;
export const AlarmType = etcdserverpb.AlarmType;

export interface AlarmMember {
  memberID: number;
  alarm: AlarmType;
}

export class AlarmStore {
  /** member id -> raised alarm types. */
  private readonly raised = new Map<number, Set<AlarmType>>();

  /** Raises an alarm; returns it, or null when it was already raised. */
  activate(memberId: number, alarm: AlarmType): AlarmMember | null {
    let set = this.raised.get(memberId);
    if (!set) {
      set = new Set();
      this.raised.set(memberId, set);
    }
    if (set.has(alarm)) return null;
    set.add(alarm);
    return { memberID: memberId, alarm };
  }

  /** Disarms an alarm; returns it, or null when it was not raised. */
  deactivate(memberId: number, alarm: AlarmType): AlarmMember | null {
    const set = this.raised.get(memberId);
    if (!set || !set.delete(alarm)) return null;
    if (set.size === 0) this.raised.delete(memberId);
    return { memberID: memberId, alarm };
  }

  /** Raised alarms of a type (NONE: all), ordered by member then type. */
  list(alarm: AlarmType = AlarmType.NONE): AlarmMember[] {
    const out: AlarmMember[] = [];
    for (const memberId of [...this.raised.keys()].sort((a, b) => a - b)) {
      for (const type of [...this.raised.get(memberId)!].sort((a, b) => a - b)) {
        if (alarm === AlarmType.NONE || alarm === type) out.push({ memberID: memberId, alarm: type });
      }
    }
    return out;
  }

  isRaised(alarm: AlarmType): boolean {
    for (const set of this.raised.values()) if (set.has(alarm)) return true;
    return false;
  }

  restore(alarms: Iterable<AlarmMember>): void {
    this.raised.clear();
    for (const a of alarms) this.activate(a.memberID, a.alarm);
  }
}
