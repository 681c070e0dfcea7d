import { readFileSync } from "node:fs";
import { createServer } from "node:net";

export class PortsExhaustedError extends Error {
  override readonly name = "PortsExhaustedError";
}

/**
 * Listening ports come from below the kernel's ephemeral range: a process that is down for a while
 * must get its port back, and a port in the ephemeral range may meanwhile be taken as the local
 * end of some outgoing connection.
 */
const LISTEN_PORT_MIN = 20_000;
const EPHEMERAL_PORT_MIN_DEFAULT = 32_768;
/** Attempts at finding free ports before giving up (each is one bind). */
const PORT_PROBES_MAX = 1000;

function ephemeralPortMin(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LISTEN_PORT_MIN + 1000 ? low : EPHEMERAL_PORT_MIN_DEFAULT;
  } catch {
    return EPHEMERAL_PORT_MIN_DEFAULT;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** `count` distinct ports on 127.0.0.1 that are free now, picked at random below the ephemeral range. */
export async function freePorts(count: number): Promise<number[]> {
  const span = ephemeralPortMin() - LISTEN_PORT_MIN;
  const ports = new Set<number>();
  for (let probe = 0; probe < PORT_PROBES_MAX && ports.size < count; probe++) {
    const port = LISTEN_PORT_MIN + Math.floor(Math.random() * span);
    if (!ports.has(port) && (await portIsFree(port))) ports.add(port);
  }
  if (ports.size < count) throw new PortsExhaustedError(`found only ${ports.size} free ports of ${count} after ${PORT_PROBES_MAX} probes`);
  return [...ports];
}
