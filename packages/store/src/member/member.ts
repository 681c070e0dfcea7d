/**
 * One member of the store: the Raft node (WAL and snapshots under --data-dir, gRPC peer
 * transport on --listen-peer-urls), the state machine every member applies in log order, the
 * etcd v3 gRPC API on --listen-client-urls, metrics and /health on --listen-metrics-urls, and the
 * leader's duties (lease expiry, fresh TTLs on election).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ConfChangeType, DurableLogStore, GrpcTransport, type Logger, ProposalDroppedError, RaftNode, StateType, createLogger } from "@coxswain/raft";
import { StoreStateMachine } from "../apply/state-machine.js";
import type { MemberRecord } from "../cluster/members.js";
import { BadLeaderTransfereeError, LearnerNotReadyError, MemberNotFoundError, MemberNotLearnerError, NoLeaderError, RequestTimeoutError } from "../errors.js";
import { type ClusterControl, ETCD_COMPATIBLE_VERSION, RequestIdGenerator, type StoreServerContext, propose } from "../server/context.js";
import { addStoreServices } from "../server/server.js";
import { type StoreConfig, type TlsFiles, clusterIdFor, hostPort, memberIdFor } from "./config.js";
import { GrpcLeaderForwarder } from "./leader-forwarder.js";
import { MemberMetrics } from "./metrics.js";
import { RaftStoreLog, encodeMemberContext } from "./raft-log.js";

/** How often the leader looks for expired leases, and how many it expires per entry. */
const LEASE_EXPIRY_CHECK_INTERVAL_MS = 500;
const LEASE_EXPIRY_BATCH_MAX = 1000;
/** etcd answers "request timed out" after about this long past an election timeout. */
const REQUEST_TIMEOUT_EXTRA_MS = 5_000;
const PUBLISH_RETRY_MS = 500;
const MOVE_LEADER_POLL_MS = 20;

function serverCredentials(tls: TlsFiles | null): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  const ca = tls.trustedCaFile !== null ? readFileSync(tls.trustedCaFile) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], tls.clientCertAuth);
}

function tlsMaterial(tls: TlsFiles): { ca?: Buffer; cert: Buffer; key: Buffer } {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.trustedCaFile !== null ? { ca: readFileSync(tls.trustedCaFile) } : {}),
  };
}

export class StoreMember {
  private readonly clientServers: grpc.Server[] = [];
  private leaseTimer: NodeJS.Timeout | null = null;
  private publishTimer: NodeJS.Timeout | null = null;
  private knownPeers = new Set<number>();
  private term = 0;
  readonly context: StoreServerContext;

  private constructor(
    readonly config: StoreConfig,
    readonly memberId: number,
    readonly clusterId: number,
    readonly stateMachine: StoreStateMachine,
    readonly log: RaftStoreLog,
    readonly node: RaftNode,
    readonly metrics: MemberMetrics,
    private readonly transport: GrpcTransport,
    private readonly forwarder: GrpcLeaderForwarder,
    readonly logger: Logger,
  ) {
    const ids = new RequestIdGenerator(memberId, Date.now());
    this.context = {
      stateMachine,
      log,
      raft: {
        leaderId: () => node.leader(),
        term: () => node.status().hardState.term,
        committedIndex: () => node.status().hardState.commit,
        appliedIndex: () => node.appliedIndex(),
        isLearner: () => node.configuration().learners.includes(memberId),
      },
      clusterId,
      memberId,
      limits: { maxTxnOps: config.maxTxnOps, maxRequestBytes: config.maxRequestBytes },
      quotaBytes: config.quotaBackendBytes,
      version: ETCD_COMPATIBLE_VERSION,
      forwarder,
      cluster: this.clusterControl(),
      nextRequestId: () => ids.next(),
      now: Date.now,
    };
  }

  static async start(config: StoreConfig): Promise<StoreMember> {
    const token = config.initialClusterToken;
    const memberId = memberIdFor(config.initialAdvertisePeerUrls, token);
    const clusterId = clusterIdFor(config.initialCluster, token);
    const logger = createLogger("store", { member: config.name, memberId: memberId.toString(16) });
    const initialMembers: MemberRecord[] = [...config.initialCluster].map(([name, urls]) => ({
      id: memberIdFor(urls, token),
      name,
      peerUrls: urls.map((u) => u.origin),
      clientUrls: [],
      isLearner: false,
    }));
    const electionTicks = Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs));
    const stateMachine = new StoreStateMachine({ minLeaseTtlSeconds: Math.ceil((1.5 * config.electionTimeoutMs) / 1000) });
    // A new cluster's members all start from the same state: the initial member list. (On a
    // restart, or when joining, the state comes from the snapshot and the log instead.)
    if (config.initialClusterState === "new") for (const m of initialMembers) stateMachine.members.add(m);

    let member: StoreMember | null = null;
    const transport = new GrpcTransport({
      localId: memberId,
      listenAddress: hostPort(config.listenPeerUrls[0]!),
      clusterToken: token,
      peers: new Map(initialMembers.filter((m) => m.id !== memberId).map((m) => [m.id, hostPort(new URL(m.peerUrls[0]!))])),
      ...(config.peerTls !== null ? { tls: tlsMaterial(config.peerTls) } : {}),
    });
    const log = new RaftStoreLog({
      memberId,
      stateMachine,
      requestTimeoutMs: config.electionTimeoutMs + REQUEST_TIMEOUT_EXTRA_MS,
      limits: { maxTxnOps: config.maxTxnOps, maxRequestBytes: config.maxRequestBytes },
      logger,
      onMembersChanged: (members) => member?.syncPeers(members),
    });
    const metrics = new MemberMetrics({
      hasLeader: () => (member?.node.leader() ?? 0) !== 0,
      isLeader: () => member?.node.isLeader() ?? false,
      leaderChanges: () => member?.node.stats.leaderChanges ?? 0,
      proposalsCommitted: () => member?.node.stats.proposalsCommitted ?? 0,
      proposalsApplied: () => member?.node.stats.proposalsApplied ?? 0,
      proposalsPending: () => log.pendingCount(),
      proposalsFailed: () => log.stats.failedProposals,
      dbSizeBytes: () => stateMachine.mvcc.sizeBytes,
      keysTotal: () => stateMachine.mvcc.keyCount,
      unhealthyReason: () => {
        if (member === null || member.node.leader() === 0) return "RAFT NO LEADER";
        if (stateMachine.alarms.list().length > 0) return "ALARM ACTIVE";
        return null;
      },
    });
    const logStore = await DurableLogStore.open(join(config.dataDir, "member"), { logger, onFsync: (s) => metrics.walFsyncSeconds.observe(s) });
    const node = await RaftNode.start({
      id: memberId,
      logStore,
      transport,
      stateMachine: log,
      bootstrapConfState: config.initialClusterState === "new" ? { voters: initialMembers.map((m) => m.id), learners: [] } : null,
      tickIntervalMs: config.heartbeatIntervalMs,
      electionTicks,
      snapshotEntriesMin: config.snapshotCount,
      snapshotRetainEntries: config.snapshotCatchupEntries,
      logger,
      onLeaderChange: (lead, state, term) => member?.onLeaderChange(lead, state, term),
    });
    log.node = node;
    const forwarder = new GrpcLeaderForwarder(stateMachine.members, () => node.leader(), config.clientTls);
    member = new StoreMember(config, memberId, clusterId, stateMachine, log, node, metrics, transport, forwarder, logger);
    member.syncPeers(stateMachine.members.list());
    await member.serveClients();
    await metrics.listen(config.listenMetricsUrls.map((u) => ({ host: u.hostname, port: Number(u.port) })));
    member.leaseTimer = setInterval(() => member?.expireLeases(), LEASE_EXPIRY_CHECK_INTERVAL_MS);
    member.leaseTimer.unref();
    member.publishAttributes();
    logger.info(
      { clientUrls: config.advertiseClientUrls.map((u) => u.origin), peerUrls: config.initialAdvertisePeerUrls.map((u) => u.origin), dataDir: config.dataDir },
      "store member started",
    );
    return member;
  }

  private async serveClients(): Promise<void> {
    for (const u of this.config.listenClientUrls) {
      const server = new grpc.Server({
        // The request-size limit is enforced per request with etcd's error; gRPC's own cap sits above it.
        "grpc.max_receive_message_length": this.config.maxRequestBytes + 512 * 1024,
        "grpc.max_send_message_length": 2 ** 31 - 1,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.http2.min_ping_interval_without_data_ms": 5_000,
      });
      addStoreServices(server, this.context);
      await new Promise<void>((resolve, reject) => {
        server.bindAsync(hostPort(u), serverCredentials(this.config.clientTls), (err) => (err ? reject(err) : resolve()));
      });
      this.clientServers.push(server);
    }
  }

  private onLeaderChange(lead: number, state: StateType, term: number): void {
    this.term = term;
    if (state === StateType.Leader) {
      // A new leader gives every live lease a fresh TTL rather than expiring them all at once
      // (etcd's lessor.Promote): its clock never saw their keep-alives.
      this.stateMachine.lessor.promote(this.config.electionTimeoutMs);
    } else {
      this.stateMachine.lessor.demote();
    }
    this.logger.info({ leader: lead.toString(16), state, term }, "leader changed");
  }

  private expireLeases(): void {
    if (!this.node.isLeader()) return;
    const ids = this.stateMachine.lessor.findExpired(LEASE_EXPIRY_BATCH_MAX);
    if (ids.length === 0) return;
    propose(this.context, "leaseExpire", { ids, leaderTerm: this.term }).catch((err: unknown) => {
      this.logger.warn({ err, leases: ids.length }, "could not expire leases; will retry");
    });
  }

  /** etcd's publish: tell the cluster this member's name and client URLs, through the log. */
  private publishAttributes(): void {
    const attempt = (): void => {
      propose(this.context, "memberAttributes", {
        memberId: this.memberId,
        name: this.config.name,
        clientUrls: this.config.advertiseClientUrls.map((u) => u.origin),
      })
        .then(() => this.logger.info("published member attributes"))
        .catch(() => {
          this.publishTimer = setTimeout(attempt, PUBLISH_RETRY_MS);
          this.publishTimer.unref();
        });
    };
    attempt();
  }

  /** Keeps the transport's peers equal to the member list (after conf changes and snapshots). */
  syncPeers(members: MemberRecord[]): void {
    for (const m of members) {
      if (m.id === this.memberId || m.peerUrls.length === 0) continue;
      this.transport.addPeer(m.id, hostPort(new URL(m.peerUrls[0]!)));
    }
    for (const id of this.knownPeers) if (!members.some((m) => m.id === id)) this.transport.removePeer(id);
    this.knownPeers = new Set(members.filter((m) => m.id !== this.memberId).map((m) => m.id));
  }

  /** Membership changes as Raft configuration changes (etcd's Cluster API). */
  private clusterControl(): ClusterControl {
    const token = this.config.initialClusterToken;
    const conf = async (type: ConfChangeType, id: number, payload?: Uint8Array): Promise<void> => {
      try {
        await this.node.proposeConfChange(type, id, payload);
      } catch (err) {
        if (err instanceof ProposalDroppedError) {
          if (type === ConfChangeType.ADD_VOTER && this.stateMachine.members.get(id)?.isLearner) throw new LearnerNotReadyError();
          throw new NoLeaderError();
        }
        throw err;
      }
    };
    return {
      addMember: async (peerUrls, isLearner) => {
        const urls = peerUrls.map((u) => new URL(u));
        // The joining member computes the same id from its --initial-advertise-peer-urls.
        const record: MemberRecord = { id: memberIdFor(urls, token), name: "", peerUrls: urls.map((u) => u.origin), clientUrls: [], isLearner };
        this.stateMachine.members.checkAdd(record);
        await conf(
          isLearner ? ConfChangeType.ADD_LEARNER : ConfChangeType.ADD_VOTER,
          record.id,
          encodeMemberContext({ id: record.id, name: "", peerUrls: record.peerUrls, isLearner }),
        );
        return this.stateMachine.members.get(record.id) ?? record;
      },
      removeMember: async (id) => {
        if (this.stateMachine.members.get(id) === undefined) throw new MemberNotFoundError();
        await conf(ConfChangeType.REMOVE_NODE, id);
      },
      promoteMember: async (id) => {
        const m = this.stateMachine.members.get(id);
        if (m === undefined) throw new MemberNotFoundError();
        if (!m.isLearner) throw new MemberNotLearnerError();
        await conf(ConfChangeType.ADD_VOTER, id);
      },
      updateMember: async (id, peerUrls) => {
        if (this.stateMachine.members.get(id) === undefined) throw new MemberNotFoundError();
        await propose(this.context, "memberUpdate", { ID: id, peerURLs: peerUrls });
      },
      moveLeader: async (targetId) => {
        const target = this.stateMachine.members.get(targetId);
        if (target === undefined || target.isLearner) throw new BadLeaderTransfereeError();
        if (!this.node.isLeader()) throw new NoLeaderError();
        this.node.transferLeadership(targetId);
        const deadline = Date.now() + this.config.electionTimeoutMs * 2;
        while (this.node.leader() !== targetId) {
          if (Date.now() > deadline) throw new RequestTimeoutError();
          await new Promise((r) => setTimeout(r, MOVE_LEADER_POLL_MS));
        }
      },
    };
  }

  async stop(): Promise<void> {
    if (this.leaseTimer !== null) clearInterval(this.leaseTimer);
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    this.log.stop();
    this.forwarder.close();
    await Promise.all(this.clientServers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
    await this.node.stop();
    await this.metrics.close();
    this.logger.info("store member stopped");
  }
}
