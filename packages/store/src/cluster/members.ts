/**
 * The cluster's members as etcd's Cluster API shows them (ids, names, peer and client URLs,
 * learner flag). Part of the replicated state: the Raft wiring applies membership changes
 * (ConfChange entries) through add/remove/promote in log order, and members publish their name and
 * client URLs through a MemberAttributes entry once they run (etcd's "publish").
 */
import type { etcdserverpbTypes } from "@coxswain/proto";
import { MemberExistsError, MemberNotFoundError, MemberNotLearnerError, PeerUrlExistsError } from "../errors.js";

export interface MemberRecord {
  id: number;
  /** Empty until the member has started and published it. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export class MemberRegistry {
  private readonly members = new Map<number, MemberRecord>();
  /** Ids removed from the cluster; never reused (etcd refuses them too). */
  private readonly removed = new Set<number>();

  get size(): number {
    return this.members.size;
  }

  get(id: number): MemberRecord | undefined {
    return this.members.get(id);
  }

  isRemoved(id: number): boolean {
    return this.removed.has(id);
  }

  /** Members ordered by id. */
  list(): MemberRecord[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  /** Checks an addition without making it (the proposer validates before proposing). */
  checkAdd(member: MemberRecord): void {
    if (this.members.has(member.id) || this.removed.has(member.id)) throw new MemberExistsError();
    for (const existing of this.members.values()) {
      for (const url of member.peerUrls) if (existing.peerUrls.includes(url)) throw new PeerUrlExistsError();
    }
  }

  add(member: MemberRecord): void {
    this.checkAdd(member);
    this.members.set(member.id, { ...member, peerUrls: [...member.peerUrls], clientUrls: [...member.clientUrls] });
  }

  remove(id: number): void {
    if (!this.members.delete(id)) throw new MemberNotFoundError();
    this.removed.add(id);
  }

  promote(id: number): void {
    const member = this.members.get(id);
    if (!member) throw new MemberNotFoundError();
    if (!member.isLearner) throw new MemberNotLearnerError();
    member.isLearner = false;
  }

  updatePeerUrls(id: number, peerUrls: readonly string[]): void {
    const member = this.members.get(id);
    if (!member) throw new MemberNotFoundError();
    for (const other of this.members.values()) {
      if (other.id === id) continue;
      for (const url of peerUrls) if (other.peerUrls.includes(url)) throw new PeerUrlExistsError();
    }
    member.peerUrls = [...peerUrls];
  }

  /** A running member's name and client URLs. Ignored for members not (or no longer) in the cluster. */
  publish(id: number, name: string, clientUrls: readonly string[]): void {
    const member = this.members.get(id);
    if (!member) return;
    member.name = name;
    member.clientUrls = [...clientUrls];
  }

  toProto(): etcdserverpbTypes.IMember[] {
    return this.list().map(memberToProto);
  }

  removedIds(): number[] {
    return [...this.removed].sort((a, b) => a - b);
  }

  restore(members: Iterable<MemberRecord>, removedIds: Iterable<number>): void {
    this.members.clear();
    this.removed.clear();
    for (const id of removedIds) this.removed.add(id);
    for (const m of members) this.members.set(m.id, { ...m, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls] });
  }
}

export function memberToProto(m: MemberRecord): etcdserverpbTypes.IMember {
  return { ID: m.id, name: m.name, peerURLs: [...m.peerUrls], clientURLs: [...m.clientUrls], isLearner: m.isLearner };
}

export function memberFromProto(m: etcdserverpbTypes.IMember): MemberRecord {
  return {
    id: m.ID ?? 0,
    name: m.name ?? "",
    peerUrls: [...(m.peerURLs ?? [])],
    clientUrls: [...(m.clientURLs ?? [])],
    isLearner: m.isLearner ?? false,
  };
}
