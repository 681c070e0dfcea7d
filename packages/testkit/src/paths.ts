import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from this file's place: packages/testkit/dist/paths.js. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The launcher every Coxswain process is started with (`coxswain store`, `coxswain apiserver`, ...). */
export function coxswainBinary(repoRoot = REPO_ROOT): string {
  return join(repoRoot, "bin", "coxswain");
}

/** Debian's etcd-server; $ETCD_BIN overrides. */
export const ETCD_BINARY_DEFAULT = "/usr/bin/etcd";

export function etcdBinary(): string {
  return process.env["ETCD_BIN"] ?? ETCD_BINARY_DEFAULT;
}

/** kubectl 1.32 from the machine; $KUBECTL_BIN overrides. */
export function kubectlBinary(): string {
  return process.env["KUBECTL_BIN"] ?? "kubectl";
}

/** What the launcher needs to be built, or null when it is. */
export function missingLauncher(repoRoot = REPO_ROOT): string | null {
  return existsSync(join(repoRoot, "packages", "cli", "dist", "coxswain.js"))
    ? null
    : "the coxswain launcher packages/cli/dist/coxswain.js behind bin/coxswain (run make build)";
}
