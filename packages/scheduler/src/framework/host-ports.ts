/**
 * Host ports: a container port with `hostPort` set binds that port on the node itself, so two
 * pods may not claim the same (hostIP, protocol, port) on one node. An empty hostIP means every
 * address (0.0.0.0), which conflicts with any hostIP on the same protocol and port
 * (kube-scheduler's HostPortInfo).
 */
import type { PodSpec, Protocol } from "@coxswain/api";

export const anyHostIp = "0.0.0.0";

export interface HostPort {
  ip: string;
  protocol: Protocol;
  port: number;
}

/** The host ports a pod claims: regular containers and sidecars (they run for the pod's life). */
export function podHostPorts(spec: PodSpec | undefined): HostPort[] {
  const ports: HostPort[] = [];
  const containers = [...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always"), ...(spec?.containers ?? [])];
  for (const container of containers) {
    for (const p of container.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort <= 0) continue;
      ports.push({ ip: p.hostIP || anyHostIp, protocol: p.protocol ?? "TCP", port: p.hostPort });
    }
  }
  return ports;
}

/** The host ports in use on one node, counted so that removing one pod's claim is exact. */
export class HostPortUsage {
  /** "TCP/8080" → hostIP → how many pods claim it. */
  private readonly byProtocolPort = new Map<string, Map<string, number>>();

  static key(protocol: Protocol, port: number): string {
    return `${protocol}/${port}`;
  }

  add(p: HostPort): void {
    const key = HostPortUsage.key(p.protocol, p.port);
    let ips = this.byProtocolPort.get(key);
    if (ips === undefined) {
      ips = new Map();
      this.byProtocolPort.set(key, ips);
    }
    ips.set(p.ip, (ips.get(p.ip) ?? 0) + 1);
  }

  remove(p: HostPort): void {
    const key = HostPortUsage.key(p.protocol, p.port);
    const ips = this.byProtocolPort.get(key);
    const count = ips?.get(p.ip);
    if (ips === undefined || count === undefined) return;
    if (count > 1) ips.set(p.ip, count - 1);
    else ips.delete(p.ip);
    if (ips.size === 0) this.byProtocolPort.delete(key);
  }

  /** Would claiming `p` collide with a port already in use? */
  conflicts(p: HostPort): boolean {
    const ips = this.byProtocolPort.get(HostPortUsage.key(p.protocol, p.port));
    if (ips === undefined) return false;
    if (p.ip === anyHostIp) return ips.size > 0;
    return ips.has(p.ip) || ips.has(anyHostIp);
  }

  isEmpty(): boolean {
    return this.byProtocolPort.size === 0;
  }

  /** Every claim, for display and tests: "TCP/8080@0.0.0.0". */
  list(): string[] {
    const out: string[] = [];
    for (const [key, ips] of this.byProtocolPort) for (const ip of ips.keys()) out.push(`${key}@${ip}`);
    return out.sort();
  }

  clone(): HostPortUsage {
    const copy = new HostPortUsage();
    for (const [key, ips] of this.byProtocolPort) copy.byProtocolPort.set(key, new Map(ips));
    return copy;
  }
}
