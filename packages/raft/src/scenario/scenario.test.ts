/**
 * Runs every scenario script in src/scenario/testdata and compares what the cluster printed with
 * the expected output written in the file. `REWRITE=1` writes the actual output back instead
 * (then read the diff with git: the new text must still tell the right story).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { diffLines, runScript } from "./script.js";

// The build copies no data files: this test runs from dist/scenario/, the scripts live in src/.
const TESTDATA_DIR = fileURLToPath(new URL("../../src/scenario/testdata/", import.meta.url));
const REWRITE = process.env["REWRITE"] === "1";

const scripts = readdirSync(TESTDATA_DIR)
  .filter((f) => f.endsWith(".txt"))
  .sort();

describe("raft scenario scripts", () => {
  it("finds the scenario scripts", () => {
    assert.ok(scripts.length >= 9, `only ${scripts.length} scripts in ${TESTDATA_DIR}`);
  });

  for (const file of scripts) {
    it(`${file.replace(/\.txt$/, "")} prints its expected story`, () => {
      const path = join(TESTDATA_DIR, file);
      const expected = readFileSync(path, "utf8");
      const actual = runScript(expected);
      if (REWRITE) {
        if (actual !== expected) writeFileSync(path, actual);
        return;
      }
      if (actual !== expected) {
        assert.fail(`${path} does not match (rerun with REWRITE=1 to accept the new output, then review it):\n${diffLines(expected, actual)}`);
      }
    });
  }
});
