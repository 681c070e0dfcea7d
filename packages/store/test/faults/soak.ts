/**
 * The long form of the fault test (`make soak-store`):
 *
 *   node packages/store/test/dist/faults/soak.js --target coxswain|etcd --seconds 600 [--seed N]
 *
 * Same scenario as faults.test.ts, for longer, with the clients moving to fresh keys every
 * --epoch-seconds so that the checker's work per key stays bounded however long it runs. Exits 0
 * on a pass, 1 on any problem (data and logs are then kept and their place printed), 2 on bad flags.
 */
import { parseArgs } from "node:util";
import { missingTargetPiece, TARGETS, type Target } from "@coxswain/testkit";
import { formatReport, runFaultScenario } from "./scenario.js";

const USAGE = `Usage: node packages/store/test/dist/faults/soak.js --target coxswain|etcd [flags]

  --target          coxswain (bin/coxswain store) or etcd ($ETCD_BIN or /usr/bin/etcd)   (required)
  --seconds         length of the fault phase                                           (default 600)
  --seed            seed of the fault schedule and the clients' choices                 (default: random)
  --clients         concurrent clients                                                  (default 6)
  --keys            keys in use at a time                                               (default 4)
  --epoch-seconds   move to fresh keys this often                                       (default 60)
  --snapshot-count  --snapshot-count of every member                                    (default 1000)
  --serializable-gets
                    negative control: gets read the member's own, possibly stale, copy;
                    the checker is expected to report violations`;

function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`--${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  let target: Target;
  let serializableGets: boolean;
  let seconds: number, seed: number, clients: number, keys: number, epochSeconds: number, snapshotCount: number;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        target: { type: "string" },
        seconds: { type: "string" },
        seed: { type: "string" },
        clients: { type: "string" },
        keys: { type: "string" },
        "epoch-seconds": { type: "string" },
        "snapshot-count": { type: "string" },
        "serializable-gets": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!TARGETS.includes(values.target as Target)) throw new RangeError(`--target must be one of ${TARGETS.join(", ")}`);
    target = values.target as Target;
    serializableGets = values["serializable-gets"];
    seconds = positiveInteger("seconds", values.seconds, 600);
    seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInteger("seed", values.seed, 1);
    clients = positiveInteger("clients", values.clients, 6);
    keys = positiveInteger("keys", values.keys, 4);
    epochSeconds = positiveInteger("epoch-seconds", values["epoch-seconds"], 60);
    snapshotCount = positiveInteger("snapshot-count", values["snapshot-count"], 1000);
  } catch (err) {
    console.error(`soak: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const missing = missingTargetPiece(target);
  if (missing !== null) {
    console.error(`soak: cannot run against ${target}: missing ${missing.what}`);
    return 1;
  }

  const replay = `node packages/store/test/dist/faults/soak.js --target ${target} --seconds ${seconds} --seed ${seed} --clients ${clients} --keys ${keys} --epoch-seconds ${epochSeconds} --snapshot-count ${snapshotCount}${serializableGets ? " --serializable-gets" : ""}`;
  console.error(`soak: ${replay}`);
  const report = await runFaultScenario({
    target,
    seed,
    faultMs: seconds * 1000,
    clientCount: clients,
    keysPerEpoch: keys,
    epochMs: epochSeconds * 1000,
    snapshotCount,
    serializableGets,
    progressEveryMs: 10_000,
    operationsMax: 2_000_000,
    checkTimeoutMs: 600_000,
    log: (line) => console.error(`soak: ${line}`),
  });
  console.log(formatReport(report));
  if (report.problems.length > 0) {
    console.log(`replay: ${replay}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
