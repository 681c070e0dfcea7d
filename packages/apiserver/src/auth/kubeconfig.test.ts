import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { parse } from "yaml";
import { buildKubeconfig, serversExtensionName, writeKubeconfig } from "./kubeconfig.js";
import { createCa, issueClientCertificate, issueServerCertificate, type CertificateAndKey, type CertificateAuthority } from "./pki.js";
import { X509Authenticator } from "./x509-authenticator.js";

/** kubectl, with a throwaway HOME so it neither reads nor writes the developer's ~/.kube. */
function kubectl(home: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("kubectl", args, { env: { ...process.env, HOME: home, KUBECONFIG: "" }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kubectl ${args.join(" ")} failed: ${stderr}`, { cause: error }));
      else resolve({ stdout, stderr });
    });
  });
}

describe("kubeconfig", () => {
  let dir: string;
  let ca: CertificateAuthority;
  let admin: CertificateAndKey;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "coxswain-kubeconfig-"));
    ca = await createCa("coxswain-test-ca");
    admin = await issueClientCertificate(ca, { commonName: "admin", organizations: ["system:masters"] });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("is read by kubectl config view, with the embedded credentials intact", async () => {
    const file = path.join(dir, "admin.kubeconfig");
    await writeKubeconfig(file, {
      servers: ["https://127.0.0.1:6443", "https://127.0.0.1:6444"],
      caPem: ca.certPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
      user: "admin",
      context: "coxswain",
      namespace: "default",
    });
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    const { stdout } = await kubectl(dir, ["config", "view", "--kubeconfig", file, "--raw", "-o", "json"]);
    const config = JSON.parse(stdout);
    assert.equal(config["current-context"], "coxswain");
    assert.equal(config.clusters[0].cluster.server, "https://127.0.0.1:6443");
    assert.equal(Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString(), ca.certPem);
    assert.equal(Buffer.from(config.users[0].user["client-certificate-data"], "base64").toString(), admin.certPem);
    assert.equal(Buffer.from(config.users[0].user["client-key-data"], "base64").toString(), admin.keyPem);
    assert.deepEqual(config.contexts[0], { name: "coxswain", context: { cluster: "coxswain", user: "admin", namespace: "default" } });
    const extension = config.clusters[0].cluster.extensions.find((e: { name: string }) => e.name === serversExtensionName);
    assert.deepEqual(extension.extension.servers, ["https://127.0.0.1:6443", "https://127.0.0.1:6444"]);
  });

  it("holds a bearer token for token users", async () => {
    const file = path.join(dir, "token.kubeconfig");
    await writeKubeconfig(file, { servers: ["https://127.0.0.1:6443"], caPem: ca.certPem, token: "s3cr3t", user: "ci", context: "ci" });
    const written = parse(await fs.readFile(file, "utf8"));
    assert.deepEqual(written.users, [{ name: "ci", user: { token: "s3cr3t" } }]);
    assert.equal(written.clusters[0].cluster.extensions, undefined, "one server needs no extension");
    const { stdout } = await kubectl(dir, ["config", "view", "--kubeconfig", file, "--raw", "-o", "json"]);
    assert.equal(JSON.parse(stdout).users[0].user.token, "s3cr3t");
  });

  it("refuses a user without credentials", () => {
    assert.throws(() => buildKubeconfig({ servers: ["https://127.0.0.1:6443"], caPem: ca.certPem, user: "nobody", context: "c" }), /credentials|certificate/);
  });

  it("lets kubectl reach an HTTPS server with the issued certificates and present the admin certificate", async () => {
    const serving = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const authenticator = new X509Authenticator([ca.certPem]);
    const seenUsers: string[] = [];
    const server = https.createServer({ cert: serving.certPem, key: serving.keyPem, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      const user = authenticator.authenticate((request.socket as TLSSocket).getPeerCertificate());
      seenUsers.push(`${user?.name ?? "anonymous"} ${JSON.stringify(user?.groups ?? [])} ${request.url ?? ""}`);
      if (user === undefined) {
        response
          .writeHead(401, { "content-type": "application/json" })
          .end('{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}');
        return;
      }
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          major: "1",
          minor: "32",
          gitVersion: "v1.32.0",
          gitCommit: "",
          gitTreeState: "clean",
          buildDate: "",
          goVersion: "",
          compiler: "gc",
          platform: "linux/amd64",
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const file = path.join(dir, "live.kubeconfig");
      const port = (server.address() as AddressInfo).port;
      await writeKubeconfig(file, {
        servers: [`https://127.0.0.1:${port}`],
        caPem: ca.certPem,
        clientCertPem: admin.certPem,
        clientKeyPem: admin.keyPem,
        user: "admin",
        context: "coxswain",
      });
      const { stdout } = await kubectl(dir, ["version", "--kubeconfig", file, "-o", "json", "--request-timeout=20s"]);
      assert.equal(JSON.parse(stdout).serverVersion.gitVersion, "v1.32.0");
      assert.ok(
        seenUsers.some((u) => u.startsWith('admin ["system:masters"] /version')),
        seenUsers.join("\n"),
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
