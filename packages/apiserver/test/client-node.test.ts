/**
 * @kubernetes/client-node 1.x — the official JavaScript client — against two API servers, with
 * the admin kubeconfig `coxswain pki` wrote: typed APIs (CoreV1Api, AppsV1Api), the generic
 * discovery-driven KubernetesObjectApi, errors as ApiException, paginated lists, and an informer
 * (list, then watch) whose cache follows writes made through either API server.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type V1ConfigMap,
  type V1Deployment,
  makeInformer,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { waitFor, withTimeout } from "@coxswain/testkit";
import { SETTLE_TIMEOUT_MS, SUITE_TIMEOUT_MS, type StatusLike, useControlPlane } from "./support.js";

/** The admin kubeconfig, pointed at API server `index` (client-node uses one server per config). */
function kubeConfigFor(kubeconfigPath: string, server: string): KubeConfig {
  const loaded = new KubeConfig();
  loaded.loadFromFile(kubeconfigPath);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: loaded.clusters.map((c) => ({ ...c, server })),
    users: loaded.users,
    contexts: loaded.contexts,
    currentContext: loaded.currentContext,
  });
  return kc;
}

/** The Status an ApiException carries (client-node keeps the body as text). */
function statusOfException(err: unknown): StatusLike {
  assert.ok(err instanceof ApiException, `an ApiException, got ${String(err)}`);
  const body: unknown = err.body;
  const status = (typeof body === "string" ? JSON.parse(body) : body) as StatusLike;
  assert.equal(status.kind, "Status");
  assert.equal(status.code, err.code);
  return status;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

function deployment(name: string, replicas: number): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] } },
    },
  };
}

describe("@kubernetes/client-node 1.x against two API servers", { timeout: SUITE_TIMEOUT_MS }, () => {
  const suite = useControlPlane();
  const config = (index = 0): KubeConfig => kubeConfigFor(suite.plane.kubeconfigPath, suite.plane.apiServer(index).url);

  async function namespace(name: string): Promise<string> {
    await config()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name } } });
    return name;
  }

  it("CoreV1Api creates, reads, lists by label and field selector, and deletes ConfigMaps", async () => {
    const core = config().makeApiClient(CoreV1Api);
    const ns = await namespace("core");
    const created = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "one", labels: { role: "a" } }, data: { k: "1" } } });
    assert.equal(created.metadata?.namespace, ns);
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.creationTimestamp instanceof Date, "client-node parses the timestamp");
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "two", labels: { role: "b" } }, data: { k: "2" } } });

    const read = await core.readNamespacedConfigMap({ namespace: ns, name: "one" });
    assert.deepEqual(read.data, { k: "1" });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);

    const byLabel = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: "role=b" });
    assert.deepEqual(
      byLabel.items.map((c) => c.metadata?.name),
      ["two"],
    );
    assert.match(byLabel.metadata?.resourceVersion ?? "", /^\d+$/);
    const byField = await core.listConfigMapForAllNamespaces({ fieldSelector: `metadata.namespace=${ns},metadata.name=one` });
    assert.deepEqual(
      byField.items.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`),
      [`${ns}/one`],
    );

    await core.deleteNamespacedConfigMap({ namespace: ns, name: "one" });
    const status = statusOfException(await rejection(core.readNamespacedConfigMap({ namespace: ns, name: "one" })));
    assert.deepEqual([status.code, status.reason, status.message], [404, "NotFound", 'configmaps "one" not found']);
  });

  it("paginates a list with limit and continue, and the pages add up to the whole list", async () => {
    const core = config().makeApiClient(CoreV1Api);
    const ns = await namespace("pages");
    const names = Array.from({ length: 7 }, (_, i) => `item-${i}`);
    for (const name of names) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { n: name } } });
    const seen: string[] = [];
    let continueToken: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: ns, limit: 3, ...(continueToken !== undefined ? { _continue: continueToken } : {}) });
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((c) => c.metadata?.name ?? ""));
      continueToken = page.metadata?._continue || undefined;
      pages++;
    } while (continueToken !== undefined && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, names);
  });

  it("AppsV1Api creates a Deployment, patches it with merge and strategic merge patches, and a stale replace is a 409", async () => {
    const apps = config().makeApiClient(AppsV1Api);
    const ns = await namespace("apps");
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: deployment("web", 2) });
    assert.equal(created.spec?.strategy?.type, "RollingUpdate", "defaulted by the server");

    const merged = await apps.patchNamespacedDeployment(
      { namespace: ns, name: "web", body: { metadata: { labels: { tier: "frontend" } }, spec: { replicas: 4 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.equal(merged.spec?.replicas, 4);
    assert.deepEqual(merged.metadata?.labels, { app: "web", tier: "frontend" });

    const strategic = await apps.patchNamespacedDeployment(
      { namespace: ns, name: "web", body: { spec: { template: { spec: { containers: [{ name: "main", image: "nginx:1.29" }] } } } } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    const container = strategic.spec?.template.spec?.containers[0];
    assert.equal(container?.image, "nginx:1.29");
    assert.equal(container?.ports?.[0]?.containerPort, 80, "a strategic merge keeps the container's other fields");
    assert.equal(strategic.metadata?.generation, 3);

    // The same patch as a JSON merge patch replaces the whole list.
    const replacedList = await apps.patchNamespacedDeployment(
      { namespace: ns, name: "web", body: { spec: { template: { spec: { containers: [{ name: "main", image: "nginx:1.30" }] } } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.equal(replacedList.spec?.template.spec?.containers[0]?.ports, undefined);

    // client-node's default patch type is a JSON patch.
    const jsonPatched = await apps.patchNamespacedDeployment({ namespace: ns, name: "web", body: [{ op: "replace", path: "/spec/replicas", value: 1 }] });
    assert.equal(jsonPatched.spec?.replicas, 1);

    const scale = await apps.readNamespacedDeploymentScale({ namespace: ns, name: "web" });
    assert.equal(scale.spec?.replicas, 1);

    // replace with the resourceVersion of the first read: someone (we) wrote since.
    const stale: V1Deployment = { ...created, spec: { ...created.spec, replicas: 9 } };
    const conflict = statusOfException(await rejection(apps.replaceNamespacedDeployment({ namespace: ns, name: "web", body: stale })));
    assert.equal(conflict.code, 409);
    assert.equal(conflict.reason, "Conflict");
    assert.equal(
      conflict.message,
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal((await apps.readNamespacedDeployment({ namespace: ns, name: "web" })).spec?.replicas, 1, "the refused replace changed nothing");
  });

  it("errors arrive as ApiException carrying Kubernetes' Status: AlreadyExists, Invalid with causes", async () => {
    const core = config().makeApiClient(CoreV1Api);
    const ns = await namespace("errors");
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "dup" } } });
    const exists = statusOfException(await rejection(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "dup" } } })));
    assert.deepEqual([exists.code, exists.reason, exists.message], [409, "AlreadyExists", 'configmaps "dup" already exists']);

    const invalid = statusOfException(await rejection(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "Not_Valid" } } })));
    assert.equal(invalid.code, 422);
    assert.equal(invalid.reason, "Invalid");
    assert.deepEqual(
      invalid.details?.causes?.map((c) => [c.reason, c.field]),
      [["FieldValueInvalid", "metadata.name"]],
    );
  });

  it("KubernetesObjectApi finds resources by discovery and creates, reads, patches, lists and deletes any kind", async () => {
    const client = KubernetesObjectApi.makeApiClient(config(1));
    const ns = await namespace("generic");
    const manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "generic", namespace: ns }, data: { a: "1" } };
    const created = await client.create(manifest);
    assert.ok((created as V1ConfigMap).metadata?.uid);
    const patched = await client.patch({ ...manifest, data: { a: "2", b: "3" } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    assert.deepEqual((patched as V1ConfigMap).data, { a: "2", b: "3" });
    const read = await client.read<V1ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "generic", namespace: ns } });
    assert.deepEqual(read.data, { a: "2", b: "3" });
    const apps = await client.create({ ...deployment("generic-web", 1), metadata: { ...deployment("generic-web", 1).metadata, namespace: ns } });
    assert.equal(apps.kind, "Deployment");
    const listed = await client.list("apps/v1", "Deployment", ns);
    assert.deepEqual(
      listed.items.map((d) => d.metadata?.name),
      ["generic-web"],
    );
    await client.delete(manifest);
    const status = statusOfException(await rejection(client.read({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "generic", namespace: ns } })));
    assert.equal(status.code, 404);
  });

  it("an informer lists, then follows adds, updates and deletes made through either API server; its cache matches a fresh list", async () => {
    const ns = await namespace("informer");
    const kc = config(0);
    const core = kc.makeApiClient(CoreV1Api);
    const otherCore = config(1).makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "before" }, data: { v: "0" } } });

    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    const events: string[] = [];
    informer.on("add", (o) => events.push(`add ${o.metadata?.name}`));
    informer.on("update", (o) => events.push(`update ${o.metadata?.name} ${o.data?.["v"]}`));
    informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on("error", (err) => errors.push(err));
    await withTimeout("the informer's start (list, then watch)", informer.start(), SETTLE_TIMEOUT_MS);
    try {
      await waitFor("the informer's initial list", () => (events.includes("add before") ? true : undefined), { timeoutMs: SETTLE_TIMEOUT_MS });

      await otherCore.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "added" }, data: { v: "1" } } });
      await core.patchNamespacedConfigMap(
        { namespace: ns, name: "added", body: { data: { v: "2" } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      await otherCore.deleteNamespacedConfigMap({ namespace: ns, name: "before" });
      await waitFor("the informer sees every change", () => (events.includes("delete before") && events.includes("update added 2") ? true : undefined), {
        timeoutMs: SETTLE_TIMEOUT_MS,
      });

      // The watch delivers events in resourceVersion order, so they were seen in the order made.
      assert.deepEqual(events, ["add before", "add added", "update added 2", "delete before"]);
      const fresh = await core.listNamespacedConfigMap({ namespace: ns });
      assert.deepEqual(
        informer.list(ns).map((o) => [o.metadata?.name, o.metadata?.resourceVersion]),
        fresh.items.map((o) => [o.metadata?.name, o.metadata?.resourceVersion]),
      );
      assert.deepEqual(errors, []);
    } finally {
      await withTimeout("the informer's stop", informer.stop(), SETTLE_TIMEOUT_MS);
    }
  });
});
