#!/usr/bin/env node
// Runs every test suite CI runs. Test files are found here and passed to `node --test` by name,
// because a `node --test` that finds no files passes without running anything; finding none is
// an error here. Suites run one package at a time (2 cores; the Raft simulation is CPU-bound).
//   node scripts/test.mjs            all packages
//   node scripts/test.mjs raft store only those packages
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2);
const packagesDir = join(root, "packages");

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.js") ? [p] : [];
  });
}

/** A package's compiled tests: its own dist/, plus test/dist/ for process-level suites built apart. */
function testDirs(name) {
  return [join(packagesDir, name, "dist"), join(packagesDir, name, "test", "dist")];
}

const suites = readdirSync(packagesDir)
  .filter((name) => only.length === 0 || only.includes(name))
  .map((name) => ({ name, files: testDirs(name).flatMap(walk).sort() }))
  .filter((s) => s.files.length > 0);

if (suites.length === 0) {
  console.error("test: no test files found (did the build run?)");
  process.exit(1);
}
const files = suites.flatMap((s) => s.files);
console.error(`test: ${files.length} files in ${suites.map((s) => s.name).join(", ")}`);
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", ...files], { stdio: "inherit", cwd: root });
process.exit(result.status ?? 1);
