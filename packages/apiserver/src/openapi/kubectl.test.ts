/**
 * The real kubectl against a fake apiserver that serves this folder's OpenAPI documents and field
 * validation: `kubectl apply` and `kubectl create` work without `--validate=false`, re-applies are
 * strategic merge patches computed from the v3 schema (containers merged by name), and unknown
 * fields fail under kubectl's default `--validate=strict`. Skipped when kubectl is not installed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeApiServer } from "./testing/fake-apiserver.js";

const KUBECTL_TIMEOUT_MS = 60_000;

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectlInstalled(): Promise<boolean> {
  return new Promise((resolve) => execFile("kubectl", ["version", "--client"], { timeout: KUBECTL_TIMEOUT_MS }, (err) => resolve(err === null)));
}

const deployment = (replicas: number, containers: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
${containers}`;

describe("kubectl 1.32 against the OpenAPI documents and field validation", async () => {
  const installed = await kubectlInstalled();
  const server = new FakeApiServer();
  let dir = "";

  const kubectl = (args: string[], manifest?: string): Promise<KubectlResult> => {
    const fullArgs = ["--kubeconfig", join(dir, "kubeconfig"), "--cache-dir", join(dir, "cache"), ...args];
    if (manifest !== undefined) {
      const file = join(dir, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, manifest);
      fullArgs.push("-f", file);
    }
    return new Promise((resolve) => {
      execFile("kubectl", fullArgs, { timeout: KUBECTL_TIMEOUT_MS }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
      });
    });
  };

  const stored = (): { spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } } } | undefined =>
    server.objectAt("apps/v1", "deployments", "default", "web") as never;

  before(async () => {
    if (!installed) return;
    dir = mkdtempSync(join(tmpdir(), "coxswain-openapi-"));
    await server.start();
    writeFileSync(join(dir, "kubeconfig"), server.kubeconfig());
  });

  after(async () => {
    await server.stop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it(
    "creates a Deployment with kubectl apply, sending fieldValidation=Strict, without fetching OpenAPI v2",
    { skip: !installed && "kubectl not installed" },
    async () => {
      const result = await kubectl(["apply"], deployment(1, "      - {name: a, image: nginx:1}\n"));
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /deployment.apps\/web created/);
      const post = server.requests.find((r) => r.method === "POST");
      assert.ok(post, "kubectl sent a create");
      assert.match(post.url, /fieldValidation=Strict/);
      assert.ok(
        server.requests.some((r) => r.url.startsWith("/openapi/v3/apis/apps/v1?hash=")),
        "kubectl read the apps/v1 document by its hashed URL",
      );
      assert.ok(!server.requests.some((r) => r.url.startsWith("/openapi/v2")), "kubectl never needed OpenAPI v2");
    },
  );

  it(
    "re-applies as a strategic merge patch that merges containers by name (merge key from the v3 schema)",
    { skip: !installed && "kubectl not installed" },
    async () => {
      const before = server.requests.length;
      const result = await kubectl(["apply"], deployment(3, "      - {name: a, image: nginx:2}\n      - {name: b, image: redis:7}\n"));
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /error calculating patch/);
      const patch = server.requests.slice(before).find((r) => r.method === "PATCH");
      assert.ok(patch, "kubectl sent a patch");
      assert.equal(patch.contentType, "application/strategic-merge-patch+json");
      assert.match(patch.url, /fieldValidation=Strict/);
      // $setElementOrder is only computed for lists with a merge key: the schema's extension was used.
      assert.match(patch.body, /"\$setElementOrder\/containers":\[\{"name":"a"\},\{"name":"b"\}\]/);
      const obj = stored();
      assert.equal(obj?.spec.replicas, 3);
      assert.deepEqual(
        obj?.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`),
        ["a=nginx:2", "b=redis:7"],
      );
    },
  );

  it("removes a container dropped from the manifest with a $patch: delete directive", { skip: !installed && "kubectl not installed" }, async () => {
    const before = server.requests.length;
    const result = await kubectl(["apply"], deployment(3, "      - {name: a, image: nginx:2}\n"));
    assert.equal(result.code, 0, result.stderr);
    const patch = server.requests.slice(before).find((r) => r.method === "PATCH");
    assert.match(patch?.body ?? "", /"\$patch":"delete","name":"b"/);
    assert.deepEqual(
      stored()?.spec.template.spec.containers.map((c) => c.name),
      ["a"],
    );
  });

  it("creates objects with kubectl create -f", { skip: !installed && "kubectl not installed" }, async () => {
    const result = await kubectl(["create"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /configmap\/settings created/);
    assert.deepEqual((server.objectAt("v1", "configmaps", "default", "settings") as { data?: unknown } | undefined)?.data, { mode: "fast" });
  });

  it("refuses a new object with unknown fields under kubectl's default strict validation", { skip: !installed && "kubectl not installed" }, async () => {
    const manifest = deployment(1, "      - {name: a, image: nginx:1, imagePullPolcy: Always}\n")
      .replace("metadata:\n  name: web", "metadata:\n  name: typo")
      .replace("  replicas: 1", "  replicas: 1\n  replica: 2");
    const result = await kubectl(["apply"], manifest);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica", unknown field "spec.template.spec.containers\[0\].imagePullPolcy"/,
    );
    assert.equal(server.objectAt("apps/v1", "deployments", "default", "typo"), undefined);
  });

  it("refuses a re-apply that adds an unknown field, leaving the object as it was", { skip: !installed && "kubectl not installed" }, async () => {
    const result = await kubectl(["apply"], deployment(5, "      - {name: a, image: nginx:2, imagee: x}\n"));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /strict decoding error: unknown field "spec.template.spec.containers\[0\].imagee"/);
    assert.equal(stored()?.spec.replicas, 3);
  });

  it("drops unknown fields with a warning under --validate=warn", { skip: !installed && "kubectl not installed" }, async () => {
    const manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warned}\ndata: {a: b}\nextra: true\n";
    const result = await kubectl(["apply", "--validate=warn"], manifest);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Warning: unknown field "extra"/);
    assert.equal((server.objectAt("v1", "configmaps", "default", "warned") as Record<string, unknown> | undefined)?.["extra"], undefined);
  });

  it("explains a kind's fields from the v3 document", { skip: !installed && "kubectl not installed" }, async () => {
    const result = await kubectl(["explain", "deployment.spec.template.spec.containers"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /imagePullPolicy\s+<string>/);
    assert.match(result.stdout, /name\s+<string> -required-/);
  });
});
