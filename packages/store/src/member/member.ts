/**
 * One member of the store: the Raft node (WAL and snapshots under --data-dir, gRPC peer
 * transport on --listen-peer-urls), the state machine every member applies in log order, the
 * client-facing etcd v3 gRPC API on --listen-client-urls, metrics and /health on
 * --listen-metrics-urls, and the leader's duties (lease expiry).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { DurableLogStore, GrpcTransport, type Logger, RaftNode, StateType, createLogger } from "@coxswain/raft";
import { StoreStateMachine } from "../apply/state-machine.js";
import type { MemberRecord } from "../cluster/members.js";
import { type StoreConfig, type TlsFiles, clusterIdFor, hostPort, memberIdFor } from "./config.js";
import { MemberMetrics } from "./metrics.js";
import { RaftStoreLog } from "./raft-log.js";

/** How often the leader looks for expired leases, and how many it expires per entry. */
const LEASE_EXPIRY_CHECK_INTERVAL_MS = 500;
const LEASE_EXPIRY_BATCH_MAX = 1000;
/** etcd waits this long for a proposal to apply before answering "request timed out". */
const REQUEST_TIMEOUT_EXTRA_MS = 5_000;

/** What the client-facing gRPC API needs from a member; implemented by StoreMember. */
export interface MemberContextForServices {
  readonly memberId: number;
  readonly clusterId: number;
  readonly config: StoreConfig;
  readonly stateMachine: StoreStateMachine;
  readonly log: RaftStoreLog;
  readonly node: RaftNode;
  readonly logger: Logger;
  readonly metrics: MemberMetrics;
  raftTerm(): number;
  leaderId(): number;
}

/** Registers the etcd v3 services on a gRPC server. Supplied by ../server. */
export type RegisterServices = (server: grpc.Server, member: MemberContextForServices) => void;

function serverCredentials(tls: TlsFiles | null): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  const ca = tls.trustedCaFile !== null ? readFileSync(tls.trustedCaFile) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], tls.clientCertAuth);
}

export class StoreMember implements MemberContextForServices {
  readonly logger: Logger;
  private readonly clientServers: grpc.Server[] = [];
  private leaseTimer: NodeJS.Timeout | null = null;
  private publishTimer: NodeJS.Timeout | null = null;
  private term = 0;

  private constructor(
    readonly config: StoreConfig,
    readonly memberId: number,
    readonly clusterId: number,
    readonly stateMachine: StoreStateMachine,
    readonly log: RaftStoreLog,
    readonly node: RaftNode,
    readonly metrics: MemberMetrics,
    private readonly transport: GrpcTransport,
    logger: Logger,
  ) {
    this.logger = logger;
  }

  raftTerm(): number {
    return this.node.status().hardState.term;
  }

  leaderId(): number {
    return this.node.leader();
  }

  static async start(config: StoreConfig, registerServices: RegisterServices): Promise<StoreMember> {
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
    // A new cluster's members all start from the same state: the initial member list.
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
      logger,
      onMembersChanged: (members) => member?.syncPeers(members),
    });
    const metricsSource = {
      hasLeader: () => member?.node.leader() !== undefined && member.node.leader() !== 0,
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
    };
    const metrics = new MemberMetrics(metricsSource);
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
      logger,
      onLeaderChange: (lead, state, term) => member?.onLeaderChange(lead, state, term),
    });
    log.node = node;
    member = new StoreMember(config, memberId, clusterId, stateMachine, log, node, metrics, transport, logger);
    member.syncPeers(stateMachine.members.list());
    await member.serveClients(registerServices);
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

  private async serveClients(registerServices: RegisterServices): Promise<void> {
    for (const u of this.config.listenClientUrls) {
      const server = new grpc.Server({
        "grpc.max_receive_message_length": this.config.maxRequestBytes + 64 * 1024,
        "grpc.max_send_message_length": 2 ** 31 - 1,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.http2.min_ping_interval_without_data_ms": 5_000,
      });
      registerServices(server, this);
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
    this.log.propose({ leaseExpire: { ids, leaderTerm: this.term } }).catch((err: unknown) => {
      this.logger.warn({ err, leases: ids.length }, "could not expire leases; will retry");
    });
  }

  /** etcd's publish: tell the cluster this member's name and client URLs, through the log. */
  private publishAttributes(): void {
    const attempt = (): void => {
      this.log
        .propose({ memberAttributes: { memberId: this.memberId, name: this.config.name, clientUrls: this.config.advertiseClientUrls.map((u) => u.origin) } })
        .then(() => this.logger.info("published member attributes"))
        .catch(() => {
          this.publishTimer = setTimeout(attempt, 500);
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
  private knownPeers = new Set<number>();

  async stop(): Promise<void> {
    if (this.leaseTimer !== null) clearInterval(this.leaseTimer);
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    this.log.stop();
    await Promise.all(this.clientServers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
    await this.node.stop();
    await this.metrics.close();
    this.logger.info("store member stopped");
  }
}

function tlsMaterial(tls: TlsFiles): { ca?: Buffer; cert: Buffer; key: Buffer } {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.trustedCaFile !== null ? { ca: readFileSync(tls.trustedCaFile) } : {}),
  };
}
