#!/usr/bin/env node
// Regenerates the typed protobuf code in packages/proto/gen/ from proto/ (the single source of
// truth). One generated module per group, each with its own protobufjs root so that groups never
// overwrite each other's namespaces. Output is CommonJS (packages/proto/gen/package.json says so)
// plus .d.ts typings; it is build output and never edited by hand.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
const outDir = join(root, "packages/proto/gen");
const bin = join(root, "node_modules/.bin");

/** group name -> .proto files (relative to proto/) that make it up. */
const groups = {
  raft: ["raft/raftpb.proto", "raft/transport.proto"],
};
for (const dir of ["etcd", "apiserver", "k8s"]) {
  const full = join(protoDir, dir);
  if (!existsSync(full)) continue;
  groups[dir] = walk(full).map((f) => f.slice(protoDir.length + 1));
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".proto") ? [p] : [];
  });
}

function newest(paths) {
  return Math.max(...paths.map((p) => (existsSync(p) ? statSync(p).mtimeMs : Infinity)));
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "package.json"), '{ "type": "commonjs" }\n');
for (const [name, files] of Object.entries(groups)) {
  const js = join(outDir, `${name}.js`);
  const dts = join(outDir, `${name}.d.ts`);
  const sources = files.map((f) => join(protoDir, f));
  if (existsSync(dts) && statSync(dts).mtimeMs > newest([...sources, fileURLToPath(import.meta.url)])) continue;
  process.stderr.write(`proto: generating ${name} from ${files.length} file(s)\n`);
  execFileSync(
    join(bin, "pbjs"),
    [
      "-t",
      "static-module",
      "-w",
      "commonjs",
      "-r",
      name,
      "--force-number",
      "--no-verify",
      "--no-delimited",
      "--no-beautify",
      "-p",
      protoDir,
      "-o",
      js,
      ...sources,
    ],
    { stdio: "inherit" },
  );
  execFileSync(join(bin, "pbts"), ["--no-comments", "-o", dts, js], { stdio: "inherit" });
}
