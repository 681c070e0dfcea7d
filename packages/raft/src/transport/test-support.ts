/** Helpers shared by the transport tests. Not exported from the package. */
import { createServer } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Message } from "../core/types.js";
import type { TransportHandler } from "./transport.js";
import type { TransportLogFields, TransportLogger } from "./log.js";
import { deserializeTransportAck } from "./service.js";

export class RecordingHandler implements TransportHandler {
  readonly received: Message[] = [];
  readonly unreachable: number[] = [];
  readonly snapshotReports: { peerId: number; ok: boolean }[] = [];

  receive(message: Message): void {
    this.received.push(message);
  }

  reportUnreachable(peerId: number): void {
    this.unreachable.push(peerId);
  }

  reportSnapshot(peerId: number, ok: boolean): void {
    this.snapshotReports.push({ peerId, ok });
  }
}

export interface LogLine {
  level: string;
  event: string;
  fields: TransportLogFields;
}

export function capturingLogger(): { logger: TransportLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (event: string, fields: TransportLogFields = {}): void => {
      lines.push({ level, event, fields });
    };
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/**
 * Waits until `condition` holds, running `poke` between checks (e.g. to resend a heartbeat).
 * The limit only turns a hang into a failure; tests never assert on how long anything took.
 */
export async function waitFor(what: string, condition: () => boolean, poke?: () => void, limitMs = 30_000): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    poke?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A port that was free a moment ago: for a peer that must start later at a known address. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Opens one client stream with a raw grpc client, writes `requests` with `serialize`, and returns
 * the final status (null error on success). For sending what GrpcTransport never would.
 */
export async function rawClientStream<T>(
  address: string,
  path: string,
  serialize: (value: T) => Buffer,
  requests: T[],
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, credentials, { "grpc.use_local_subchannel_pool": 1 });
  try {
    return await new Promise((resolve) => {
      const call = client.makeClientStreamRequest(path, serialize, deserializeTransportAck, new grpc.Metadata(), { deadline: Date.now() + 20_000 }, (err) =>
        resolve(err),
      );
      call.on("error", () => undefined);
      for (const r of requests) call.write(r);
      call.end();
    });
  } finally {
    client.close();
  }
}
