/**
 * TLS for client and peer traffic: a 3-member store whose peers talk mutual TLS and whose
 * clients must present a certificate signed by the cluster CA (--client-cert-auth). etcdctl with
 * the right certificate works; without one it is refused. Certificates are made with openssl.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT, freePorts, missingTargetPiece } from "@coxswain/testkit";

const run = promisify(execFile);
const ETCDCTL = process.env["ETCDCTL_BIN"] ?? "etcdctl";

describe("TLS on the coxswain store", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "coxswain-tls-"));
  const children: ChildProcess[] = [];
  let endpoints = "";

  async function openssl(...args: string[]): Promise<void> {
    await run("openssl", args, { cwd: dir });
  }

  /** A certificate for 127.0.0.1 signed by the test CA, usable as server and client. */
  async function issue(name: string): Promise<void> {
    writeFileSync(join(dir, `${name}.ext`), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
    await openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    await openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
    );
  }

  async function etcdctl(withCert: boolean, ...args: string[]): Promise<{ code: number; out: string }> {
    const tls = withCert
      ? [`--cacert=${join(dir, "ca.crt")}`, `--cert=${join(dir, "client.crt")}`, `--key=${join(dir, "client.key")}`]
      : [`--cacert=${join(dir, "ca.crt")}`];
    try {
      const { stdout, stderr } = await run(ETCDCTL, [`--endpoints=${endpoints}`, "--command-timeout=3s", ...tls, ...args], {
        env: { ...process.env, ETCDCTL_API: "3" },
      });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  }

  before(async () => {
    const missing = missingTargetPiece("coxswain");
    assert.equal(missing, null, missing?.what);
    await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=coxswain-test-ca");
    for (const name of ["member", "client"]) await issue(name);
    const ports = await freePorts(6);
    const cluster = [0, 1, 2].map((i) => `t${i}=https://127.0.0.1:${ports[2 * i + 1]}`).join(",");
    endpoints = [0, 1, 2].map((i) => `127.0.0.1:${ports[2 * i]}`).join(",");
    for (let i = 0; i < 3; i++) {
      const client = `https://127.0.0.1:${ports[2 * i]}`;
      const peer = `https://127.0.0.1:${ports[2 * i + 1]}`;
      const child = spawn(
        join(REPO_ROOT, "bin", "coxswain"),
        [
          "store",
          `--name=t${i}`,
          `--data-dir=${join(dir, `t${i}`)}`,
          `--listen-client-urls=${client}`,
          `--advertise-client-urls=${client}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=${cluster}`,
          "--initial-cluster-token=tls-test",
          `--cert-file=${join(dir, "member.crt")}`,
          `--key-file=${join(dir, "member.key")}`,
          `--trusted-ca-file=${join(dir, "ca.crt")}`,
          "--client-cert-auth",
          `--peer-cert-file=${join(dir, "member.crt")}`,
          `--peer-key-file=${join(dir, "member.key")}`,
          `--peer-trusted-ca-file=${join(dir, "ca.crt")}`,
          "--peer-client-cert-auth",
        ],
        { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, COXSWAIN_LOG_LEVEL: "warn" } },
      );
      children.push(child);
    }
    const deadline = Date.now() + 30_000;
    while ((await etcdctl(true, "put", "ready", "yes")).code !== 0) {
      if (Date.now() > deadline) throw new Error("the TLS cluster did not elect a leader over TLS peer links");
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("replicates over mutual-TLS peer links and serves a client with a certificate", async () => {
    assert.equal((await etcdctl(true, "put", "secret", "value")).out.trim(), "OK");
    const status = await etcdctl(true, "endpoint", "status");
    assert.equal(status.code, 0, status.out);
    assert.equal(status.out.trim().split("\n").length, 3);
    assert.equal((await etcdctl(true, "get", "secret", "--print-value-only")).out, "value\n");
  });

  it("refuses a client without a certificate", async () => {
    const r = await etcdctl(false, "get", "secret");
    assert.notEqual(r.code, 0);
  });
});
