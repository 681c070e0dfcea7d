/**
 * The store's durability-and-consistency test under faults, in the bounded form `make test` runs:
 * about 25 s of concurrent gets, puts and compare-and-swaps on a few keys while members — the
 * leader included — are killed with -9, frozen with SIGSTOP and restarted (see scenario.ts).
 *
 *   FAULTS_TARGET  coxswain (default) or etcd: the same test against real etcd validates the harness
 *   FAULTS_SEED    replays a run's schedule of faults and client choices
 *   FAULTS_SECONDS length of the fault phase (default 25)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { missingTargetPiece, TARGETS, type Target } from "@coxswain/testkit";
import { formatReport, runFaultScenario } from "./scenario.js";

const FAULT_SECONDS_DEFAULT = 25;

const target = (process.env["FAULTS_TARGET"] ?? "coxswain") as Target;
const seed = process.env["FAULTS_SEED"] === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env["FAULTS_SEED"]);
const faultSeconds = Number(process.env["FAULTS_SECONDS"] ?? FAULT_SECONDS_DEFAULT);

test(
  `${target}: every history stays linearizable and no acknowledged write is lost while members, the leader included, are killed -9, paused and restarted`,
  // Start-up, faults, recovery, settling and the check; generous, since it bounds a hang, not speed.
  { timeout: (faultSeconds + 180) * 1000 },
  async (t) => {
    assert.ok(TARGETS.includes(target), `FAULTS_TARGET must be one of ${TARGETS.join(", ")}`);
    assert.ok(Number.isSafeInteger(seed) && seed >= 0, "FAULTS_SEED must be a non-negative integer");
    assert.ok(faultSeconds > 0, "FAULTS_SECONDS must be positive");
    const missing = missingTargetPiece(target);
    // The store is being built: until its member exists there is nothing to run against.
    if (missing?.piece === "store-member") {
      t.skip(`the Coxswain store cannot run yet: missing ${missing.what}`);
      return;
    }
    assert.equal(missing, null, `cannot run against ${target}: missing ${missing?.what}`);

    const report = await runFaultScenario({
      target,
      seed,
      faultMs: faultSeconds * 1000,
      log: (line) => console.error(`faults: ${line}`),
    });
    const replay = `FAULTS_TARGET=${target} FAULTS_SEED=${seed} FAULTS_SECONDS=${faultSeconds} node --test packages/store/test/dist/faults/faults.test.js`;
    t.diagnostic(formatReport(report));
    assert.deepEqual(report.problems, [], `${formatReport(report)}\nreplay: ${replay}`);
  },
);
