/**
 * Runs the Raft simulation from the command line.
 *   node packages/raft/dist/sim/cli.js --seeds 1000 [--from 1]   run many seeds, summary at the end
 *   node packages/raft/dist/sim/cli.js --seed 42 [--verbose]     replay one seed with its trace
 * (`make sim SEEDS=N` and `make sim SEED=S` call this.)
 */
import { parseArgs } from "node:util";
import { InvariantViolation, replayCommand, runSeed } from "./simulator.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string", default: "500" },
    from: { type: "string", default: "1" },
    verbose: { type: "boolean", default: false },
  },
});

function main(): number {
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    try {
      const result = runSeed(seed, values.verbose ? (line) => console.log(line) : undefined);
      console.log(`seed ${seed}: ok ${JSON.stringify(result)}`);
      return 0;
    } catch (err) {
      console.error(`seed ${seed}: FAILED: ${(err as Error).message}`);
      if (!(err instanceof InvariantViolation)) console.error((err as Error).stack);
      return 1;
    }
  }
  const count = Number(values.seeds);
  const from = Number(values.from);
  const started = performance.now();
  let failed = 0;
  let committed = 0;
  for (let seed = from; seed < from + count; seed++) {
    try {
      committed += runSeed(seed).committed;
    } catch (err) {
      failed++;
      console.error(`seed ${seed}: FAILED: ${(err as Error).message}\n  replay: ${replayCommand(seed)}`);
    }
    if ((seed - from + 1) % 100 === 0) console.error(`sim: ${seed - from + 1}/${count} seeds, ${failed} failed`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`sim: ${count} seeds from ${from}, ${failed} failed, ${committed} entries committed, ${seconds.toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
