/**
 * The real kubectl (1.32, from the machine) against a control plane of three store members and
 * two API servers, with the admin kubeconfig `coxswain pki` wrote. Every assertion is on what
 * kubectl printed — tables, YAML, JSON, its one-line confirmations and its error lines — or on the
 * stored object read back through kubectl.
 *
 * Not covered here because it does not exist yet: what controllers, the scheduler and node agents
 * would do (Deployments create no ReplicaSets, pods never run, Services get no cluster IP), so
 * READY columns stay at 0 and `kubectl logs/exec` are not tried.
 */
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type Kubectl, waitFor } from "@coxswain/testkit";
import { SETTLE_TIMEOUT_MS, SUITE_TIMEOUT_MS, namespaceManifest, useControlPlane } from "./support.js";
import { configMapManifest, deploymentManifest, manifests, parseTable, parseYaml, rowNamed, serviceManifest } from "./tables.js";

interface Deployment {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    replicas: number;
    strategy: { type: string };
    template: {
      spec: { containers: Array<{ name: string; image: string; imagePullPolicy?: string; ports?: Array<{ containerPort: number; protocol?: string }> }> };
    };
  };
}

describe("kubectl 1.32 against two API servers", { timeout: SUITE_TIMEOUT_MS }, () => {
  const suite = useControlPlane();
  const kubectl = (): Kubectl => suite.plane.kubectl();

  /** A fresh namespace per test, made with `kubectl apply -f -` (the imperative form sends protobuf). */
  async function namespace(name: string): Promise<string> {
    assert.equal(await kubectl().ok(["apply", "-f", "-"], { stdin: manifests(namespaceManifest(name)) }), `namespace/${name} created\n`);
    return name;
  }

  async function getJson<T>(args: string[]): Promise<T> {
    return JSON.parse(await kubectl().ok([...args, "-o", "json"])) as T;
  }

  it("get namespaces prints NAME, STATUS and AGE, with the system namespaces Active", async () => {
    const table = parseTable(await kubectl().ok(["get", "namespaces"]));
    assert.deepEqual(table.columns, ["NAME", "STATUS", "AGE"]);
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) assert.equal(rowNamed(table, name)["STATUS"], "Active");
  });

  it("create -f makes every object of a manifest and prints one line each; get prints each kind's columns, -o wide more", async () => {
    const ns = await namespace("create-get");
    const out = await kubectl().ok(["create", "-n", ns, "-f", "-"], {
      stdin: manifests(
        deploymentManifest("web", { replicas: 2 }),
        configMapManifest("settings", { a: "1", b: "2" }),
        serviceManifest("web", { app: "web" }, 80),
      ),
    });
    assert.deepEqual(out.trim().split("\n"), ["deployment.apps/web created", "configmap/settings created", "service/web created"]);

    const deployments = parseTable(await kubectl().ok(["get", "deployments", "-n", ns]));
    assert.deepEqual(deployments.columns, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    // No controllers yet: nothing is ready, but the desired count is the spec's.
    assert.deepEqual({ ...rowNamed(deployments, "web"), AGE: "" }, { NAME: "web", READY: "0/2", "UP-TO-DATE": "0", AVAILABLE: "0", AGE: "" });

    const wide = parseTable(await kubectl().ok(["get", "deploy", "web", "-n", ns, "-o", "wide"]));
    assert.deepEqual(wide.columns, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    assert.deepEqual([wide.rows[0]?.["CONTAINERS"], wide.rows[0]?.["IMAGES"], wide.rows[0]?.["SELECTOR"]], ["main", "nginx:1.27", "app=web"]);

    const configMaps = parseTable(await kubectl().ok(["get", "cm", "-n", ns]));
    assert.deepEqual(configMaps.columns, ["NAME", "DATA", "AGE"]);
    assert.equal(rowNamed(configMaps, "settings")["DATA"], "2");

    const services = parseTable(await kubectl().ok(["get", "svc", "-n", ns, "-o", "wide"]));
    assert.deepEqual(services.columns, ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]);
    assert.deepEqual(
      [rowNamed(services, "web")["TYPE"], rowNamed(services, "web")["PORT(S)"], rowNamed(services, "web")["SELECTOR"]],
      ["ClusterIP", "80/TCP", "app=web"],
    );

    // Several kinds at once: one table per kind, names qualified.
    const both = await kubectl().ok(["get", "deploy,cm", "-n", ns]);
    assert.match(both, /^deployment\.apps\/web\s+0\/2\s/m);
    assert.match(both, /^configmap\/settings\s+2\s/m);
  });

  it("imperative create, run and expose (kubectl sends these bodies as protobuf) make the objects asked for", async () => {
    assert.equal(await kubectl().ok(["create", "namespace", "imperative"]), "namespace/imperative created\n");
    const ns = ["-n", "imperative"];
    const created = [
      await kubectl().ok(["create", "configmap", "settings", "--from-literal=a=1", "--from-literal=b=2", ...ns]),
      await kubectl().ok(["create", "secret", "generic", "token", "--from-literal=password=s3cret", ...ns]),
      await kubectl().ok(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", ...ns]),
      await kubectl().ok(["create", "service", "clusterip", "backend", "--tcp=80:8080", ...ns]),
      await kubectl().ok(["create", "job", "once", "--image=busybox", ...ns]),
      await kubectl().ok(["create", "role", "reader", "--verb=get,list", "--resource=pods", ...ns]),
      await kubectl().ok(["create", "rolebinding", "reader", "--role=reader", "--user=alice", ...ns]),
      await kubectl().ok(["create", "serviceaccount", "robot", ...ns]),
      await kubectl().ok(["run", "solo", "--image=busybox", ...ns]),
      await kubectl().ok(["expose", "deployment", "web", "--port=80", "--name=web", ...ns]),
    ].join("");
    assert.equal(
      created,
      [
        "configmap/settings created",
        "secret/token created",
        "deployment.apps/web created",
        "service/backend created",
        "job.batch/once created",
        "role.rbac.authorization.k8s.io/reader created",
        "rolebinding.rbac.authorization.k8s.io/reader created",
        "serviceaccount/robot created",
        "pod/solo created",
        "service/web exposed",
        "",
      ].join("\n"),
    );
    assert.equal(await kubectl().ok(["get", "cm", "settings", ...ns, "-o", "jsonpath={.data.a}{.data.b}"]), "12");
    assert.equal(Buffer.from(await kubectl().ok(["get", "secret", "token", ...ns, "-o", "jsonpath={.data.password}"]), "base64").toString(), "s3cret");
    assert.equal(
      await kubectl().ok(["get", "deploy", "web", ...ns, "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}"]),
      "3 nginx:1.27",
    );
    assert.equal(await kubectl().ok(["get", "svc", "web", ...ns, "-o", "jsonpath={.spec.selector.app} {.spec.ports[0].port}"]), "web 80");
    const again = await kubectl().run(["create", "configmap", "settings", "--from-literal=a=1", ...ns]);
    assert.deepEqual([again.code, again.stderr], [1, 'error: failed to create configmap: configmaps "settings" already exists\n']);
  });

  it("-o yaml, -o json and -o jsonpath print the stored object with its defaults and server-set metadata", async () => {
    const ns = await namespace("formats");
    await kubectl().ok(["create", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("web", { replicas: 3, image: "nginx:1.28" })) });

    const fromYaml = parseYaml<Deployment>(await kubectl().ok(["get", "deploy", "web", "-n", ns, "-o", "yaml"]));
    assert.equal(fromYaml.apiVersion, "apps/v1");
    assert.equal(fromYaml.kind, "Deployment");
    assert.equal(fromYaml.metadata.namespace, ns);
    assert.match(fromYaml.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(fromYaml.metadata.resourceVersion, /^\d+$/);
    assert.match(fromYaml.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(fromYaml.metadata.generation, 1);
    assert.equal(fromYaml.spec.replicas, 3);
    // Defaults Kubernetes fills in.
    assert.equal(fromYaml.spec.strategy.type, "RollingUpdate");
    assert.equal(fromYaml.spec.template.spec.containers[0]?.imagePullPolicy, "IfNotPresent");
    assert.equal(fromYaml.spec.template.spec.containers[0]?.ports?.[0]?.protocol, "TCP");

    const fromJson = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.deepEqual(fromJson, fromYaml);

    const jsonpath = await kubectl().ok(["get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}"]);
    assert.equal(jsonpath, "3 nginx:1.28");

    const names = await kubectl().ok(["get", "deploy", "-n", ns, "-o", "name"]);
    assert.equal(names, "deployment.apps/web\n");
  });

  it("-l selects by label (=, !=, in, notin, exists, !exists) and -A lists every namespace with a NAMESPACE column", async () => {
    const first = await namespace("labels-a");
    const second = await namespace("labels-b");
    const cm = (name: string, labels: Record<string, string>): Record<string, unknown> => configMapManifest(name, { k: "v" }, { labels });
    await kubectl().ok(["create", "-n", first, "-f", "-"], {
      stdin: manifests(cm("red", { color: "red", tier: "web" }), cm("blue", { color: "blue" }), cm("plain", {})),
    });
    await kubectl().ok(["create", "-n", second, "-f", "-"], { stdin: manifests(cm("green", { color: "green", tier: "db" })) });

    const names = async (args: string[]): Promise<string[]> =>
      (await kubectl().ok(["get", "cm", ...args, "-o", "name"]))
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .sort();
    assert.deepEqual(await names(["-n", first, "-l", "color=red"]), ["configmap/red"]);
    assert.deepEqual(await names(["-n", first, "-l", "color!=red"]), ["configmap/blue", "configmap/plain"]);
    assert.deepEqual(await names(["-n", first, "-l", "color in (red,blue)"]), ["configmap/blue", "configmap/red"]);
    assert.deepEqual(await names(["-n", first, "-l", "color notin (red)"]), ["configmap/blue", "configmap/plain"]);
    assert.deepEqual(await names(["-n", first, "-l", "tier"]), ["configmap/red"]);
    assert.deepEqual(await names(["-n", first, "-l", "!color"]), ["configmap/plain"]);
    assert.deepEqual(await names(["-n", first, "-l", "color,tier=web"]), ["configmap/red"]);

    const all = parseTable(await kubectl().ok(["get", "cm", "-A", "-l", "color"]));
    assert.deepEqual(all.columns, ["NAMESPACE", "NAME", "DATA", "AGE"]);
    assert.deepEqual(all.rows.map((r) => `${r["NAMESPACE"]}/${r["NAME"]}`).sort(), [`${first}/blue`, `${first}/red`, `${second}/green`]);

    const none = await kubectl().run(["get", "cm", "-n", first, "-l", "color=purple"]);
    assert.equal(none.code, 0);
    assert.equal(none.stderr, `No resources found in ${first} namespace.\n`);
  });

  it("apply creates, re-applying a changed manifest configures exactly the changes, and an unchanged one is unchanged", async () => {
    const ns = await namespace("apply");
    const v1 = deploymentManifest("web", { replicas: 2, image: "nginx:1.27", labels: { owner: "team-a" } });
    // The server validates (fieldValidation=Strict, from the OpenAPI v3 documents): no --validate=false.
    assert.equal(await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(v1) }), "deployment.apps/web created\n");
    const created = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.ok(created.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"], "apply records the applied configuration");

    // Someone else labels the object: apply's three-way merge must keep that label.
    await kubectl().ok(["label", "deploy", "web", "-n", ns, "extra=kept"]);

    const v2 = deploymentManifest("web", { replicas: 4, image: "nginx:1.28" }); // the owner label is gone from the manifest
    assert.equal(await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(v2) }), "deployment.apps/web configured\n");
    const changed = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.equal(changed.spec.replicas, 4);
    assert.equal(changed.spec.template.spec.containers[0]?.image, "nginx:1.28");
    assert.deepEqual(changed.metadata.labels, { app: "web", extra: "kept" }, "the label removed from the manifest is removed; the other one stays");
    assert.equal(changed.metadata.uid, created.metadata.uid);
    assert.equal(changed.metadata.generation, 2, "a spec change bumps the generation");

    assert.equal(await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(v2) }), "deployment.apps/web unchanged\n");
    const again = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.equal(again.metadata.resourceVersion, changed.metadata.resourceVersion, "an unchanged apply writes nothing");

    // apply of a manifest holding several kinds, one new and one existing.
    const out = await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(v2, configMapManifest("settings", { a: "1" })) });
    assert.deepEqual(out.trim().split("\n"), ["deployment.apps/web unchanged", "configmap/settings created"]);
  });

  it("edit changes the object through KUBE_EDITOR, as a person editing the YAML would", async () => {
    const ns = await namespace("edit");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("web", { replicas: 2 })) });
    const editor = join(suite.plane.baseDir, "editor.sh");
    // kubectl runs the editor with the temporary file's path as the last argument.
    writeFileSync(editor, `#!/bin/sh\nsed -i -e 's/replicas: 2$/replicas: 6/' -e 's/image: nginx:1.27$/image: nginx:1.29/' "$1"\n`);
    chmodSync(editor, 0o755);
    assert.equal(await kubectl().ok(["edit", "deploy", "web", "-n", ns], { env: { KUBE_EDITOR: editor } }), "deployment.apps/web edited\n");
    const edited = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.equal(edited.spec.replicas, 6);
    assert.equal(edited.spec.template.spec.containers[0]?.image, "nginx:1.29");
  });

  it("label, annotate and scale print what they did and change the object; a label clash needs --overwrite", async () => {
    const ns = await namespace("label");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("web", { replicas: 1 })) });
    assert.equal(await kubectl().ok(["label", "deploy", "web", "-n", ns, "tier=frontend"]), "deployment.apps/web labeled\n");
    assert.equal(await kubectl().ok(["annotate", "deploy", "web", "-n", ns, "note=hello world"]), "deployment.apps/web annotated\n");
    assert.equal(await kubectl().ok(["scale", "deploy", "web", "-n", ns, "--replicas=5"]), "deployment.apps/web scaled\n");
    let d = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.equal(d.metadata.labels?.["tier"], "frontend");
    assert.equal(d.metadata.annotations?.["note"], "hello world");
    assert.equal(d.spec.replicas, 5);

    const clash = await kubectl().run(["label", "deploy", "web", "-n", ns, "tier=backend"]);
    assert.equal(clash.code, 1);
    assert.equal(clash.stderr, "error: 'tier' already has a value (frontend), and --overwrite is false\n");
    await kubectl().ok(["label", "deploy", "web", "-n", ns, "tier=backend", "--overwrite"]);
    assert.equal(await kubectl().ok(["label", "deploy", "web", "-n", ns, "tier-"]), "deployment.apps/web unlabeled\n");
    await kubectl().ok(["annotate", "deploy", "web", "-n", ns, "note-"]);
    d = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.equal(d.metadata.labels?.["tier"], undefined);
    assert.equal(d.metadata.annotations?.["note"], undefined);

    // scale with a precondition on the current replicas: refused when it does not hold.
    const stale = await kubectl().run(["scale", "deploy", "web", "-n", ns, "--current-replicas=2", "--replicas=3"]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /Expected replicas to be 2, was 5/);
  });

  it("patch: a strategic merge patch merges containers by name, a merge patch replaces, a JSON patch applies its operations", async () => {
    const ns = await namespace("patch");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("web", { replicas: 1 })) });

    // Strategic (kubectl's default): the container named "main" keeps its ports; a new one is added.
    const strategic = JSON.stringify({
      spec: {
        template: {
          spec: {
            containers: [
              { name: "main", image: "nginx:1.29" },
              { name: "sidecar", image: "busybox" },
            ],
          },
        },
      },
    });
    assert.equal(await kubectl().ok(["patch", "deploy", "web", "-n", ns, "-p", strategic]), "deployment.apps/web patched\n");
    let d = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.deepEqual(
      d.spec.template.spec.containers.map((c) => [c.name, c.image, c.ports?.[0]?.containerPort]),
      [
        ["main", "nginx:1.29", 80],
        ["sidecar", "busybox", undefined],
      ],
    );

    // $patch: delete removes one list element by its merge key.
    await kubectl().ok([
      "patch",
      "deploy",
      "web",
      "-n",
      ns,
      "-p",
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } } } }),
    ]);
    d = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.deepEqual(
      d.spec.template.spec.containers.map((c) => c.name),
      ["main"],
    );

    // JSON merge patch: null deletes a key.
    await kubectl().ok(["label", "deploy", "web", "-n", ns, "gone=soon"]);
    await kubectl().ok(["patch", "deploy", "web", "-n", ns, "--type=merge", "-p", JSON.stringify({ metadata: { labels: { gone: null, added: "yes" } } })]);
    d = await getJson<Deployment>(["get", "deploy", "web", "-n", ns]);
    assert.deepEqual(d.metadata.labels, { app: "web", added: "yes" });

    // JSON patch, with a test operation that holds and one that does not.
    const ok = JSON.stringify([
      { op: "test", path: "/spec/replicas", value: 1 },
      { op: "replace", path: "/spec/replicas", value: 7 },
    ]);
    assert.equal(await kubectl().ok(["patch", "deploy", "web", "-n", ns, "--type=json", "-p", ok]), "deployment.apps/web patched\n");
    const failing = JSON.stringify([
      { op: "test", path: "/spec/replicas", value: 99 },
      { op: "replace", path: "/spec/replicas", value: 1 },
    ]);
    const refused = await kubectl().run(["patch", "deploy", "web", "-n", ns, "--type=json", "-p", failing]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^The request is invalid: .*test/m);
    assert.equal((await getJson<Deployment>(["get", "deploy", "web", "-n", ns])).spec.replicas, 7, "a refused patch changes nothing");

    // A patch that changes nothing is reported as such, and writes nothing.
    const rv = (await getJson<Deployment>(["get", "deploy", "web", "-n", ns])).metadata.resourceVersion;
    assert.equal(
      await kubectl().ok(["patch", "deploy", "web", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { replicas: 7 } })]),
      "deployment.apps/web patched (no change)\n",
    );
    assert.equal((await getJson<Deployment>(["get", "deploy", "web", "-n", ns])).metadata.resourceVersion, rv);
  });

  it("describe shows a Deployment's and a ConfigMap's fields as kubectl lays them out", async () => {
    const ns = await namespace("describe");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], {
      stdin: manifests(
        deploymentManifest("web", { replicas: 3, image: "nginx:1.27", labels: { tier: "frontend" } }),
        configMapManifest("settings", { greeting: "hello" }, { labels: { app: "web" } }),
      ),
    });
    const deployment = await kubectl().ok(["describe", "deploy", "web", "-n", ns]);
    assert.match(deployment, /^Name:\s+web$/m);
    assert.match(deployment, new RegExp(`^Namespace:\\s+${ns}$`, "m"));
    assert.match(deployment, /^Labels:\s+app=web$/m);
    assert.match(deployment, /^\s+tier=frontend$/m);
    assert.match(deployment, /^Selector:\s+app=web$/m);
    assert.match(deployment, /^Replicas:\s+3 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    assert.match(deployment, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(deployment, /^\s+Image:\s+nginx:1\.27$/m);
    assert.match(deployment, /^\s+Port:\s+80\/TCP$/m);

    const configMap = await kubectl().ok(["describe", "cm", "settings", "-n", ns]);
    assert.match(configMap, /^Name:\s+settings$/m);
    assert.match(configMap, /^Labels:\s+app=web$/m);
    assert.match(configMap, /^greeting:\n----\nhello$/m);
  });

  it("get -w prints the current rows, then one row per change; --output-watch-events names each event", async () => {
    const ns = await namespace("watch");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("web", { replicas: 1 })) });

    const watch = kubectl().start(["get", "deploy", "-n", ns, "-w"]);
    const events = kubectl().start(["get", "deploy", "-n", ns, "-w", "--output-watch-events"]);
    try {
      await watch.waitForLine(/^web\s+0\/1\s/, SETTLE_TIMEOUT_MS);
      await events.waitForLine(/^ADDED\s+web\s+0\/1\s/, SETTLE_TIMEOUT_MS);
      await kubectl().ok(["scale", "deploy", "web", "-n", ns, "--replicas=4"]);
      await watch.waitForLine(/^web\s+0\/4\s/, SETTLE_TIMEOUT_MS);
      await events.waitForLine(/^MODIFIED\s+web\s+0\/4\s/, SETTLE_TIMEOUT_MS);
      // A second object, through the other API server: the watches (on the first) see it too.
      await suite.plane.kubectl(1).ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("api", { replicas: 2 })) });
      await watch.waitForLine(/^api\s+0\/2\s/, SETTLE_TIMEOUT_MS);
      await events.waitForLine(/^ADDED\s+api\s+0\/2\s/, SETTLE_TIMEOUT_MS);
      await kubectl().ok(["delete", "deploy", "api", "-n", ns]);
      await events.waitForLine(/^DELETED\s+api\s/, SETTLE_TIMEOUT_MS);
    } finally {
      await watch.stop();
      await events.stop();
    }
    assert.equal(watch.lines[0]?.split(/\s{2,}/).join(","), "NAME,READY,UP-TO-DATE,AVAILABLE,AGE");
    assert.equal(events.lines[0]?.split(/\s{2,}/).join(","), "EVENT,NAME,READY,UP-TO-DATE,AVAILABLE,AGE");
    assert.equal(watch.stderr, "");
  });

  it("delete removes objects; --wait=false returns while a finalizer holds one; a waiting delete returns once it is released", async () => {
    const ns = await namespace("delete");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], {
      stdin: manifests(
        configMapManifest("plain", { a: "1" }),
        configMapManifest("held", { a: "1" }, { finalizers: ["example.com/hold"] }),
        configMapManifest("awaited", { a: "1" }, { finalizers: ["example.com/hold"] }),
      ),
    });
    assert.equal(await kubectl().ok(["delete", "cm", "plain", "-n", ns]), 'configmap "plain" deleted\n');
    const gone = await kubectl().run(["get", "cm", "plain", "-n", ns]);
    assert.equal(gone.stderr, 'Error from server (NotFound): configmaps "plain" not found\n');

    // Without waiting: kubectl returns at once; the object stays, marked for deletion.
    assert.equal(await kubectl().ok(["delete", "cm", "held", "-n", ns, "--wait=false"]), 'configmap "held" deleted\n');
    const held = await getJson<{ metadata: { deletionTimestamp?: string; finalizers?: string[] } }>(["get", "cm", "held", "-n", ns]);
    assert.ok(held.metadata.deletionTimestamp, "marked with a deletionTimestamp");
    assert.deepEqual(held.metadata.finalizers, ["example.com/hold"]);

    // Waiting (the default): kubectl cannot finish while the finalizer is there.
    const waiting = kubectl().start(["delete", "cm", "awaited", "-n", ns, "--timeout=60s"]);
    await waitFor(
      "awaited marked for deletion",
      async () =>
        (await getJson<{ metadata: { deletionTimestamp?: string } }>(["get", "cm", "awaited", "-n", ns])).metadata.deletionTimestamp ? true : undefined,
      { timeoutMs: SETTLE_TIMEOUT_MS },
    );
    await kubectl().ok(["patch", "cm", "awaited", "-n", ns, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    const finished = await waiting.wait(SETTLE_TIMEOUT_MS);
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(finished.stdout, 'configmap "awaited" deleted\n');
    assert.equal((await kubectl().run(["get", "cm", "awaited", "-n", ns])).code, 1);

    // Releasing the other one ends it too.
    await kubectl().ok(["patch", "cm", "held", "-n", ns, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await waitFor("held gone", async () => ((await kubectl().run(["get", "cm", "held", "-n", ns])).code === 1 ? true : undefined), {
      timeoutMs: SETTLE_TIMEOUT_MS,
    });

    // delete -f and delete -l.
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], {
      stdin: manifests(configMapManifest("one", { a: "1" }, { labels: { batch: "x" } }), configMapManifest("two", { a: "1" }, { labels: { batch: "x" } })),
    });
    const byLabel = await kubectl().ok(["delete", "cm", "-n", ns, "-l", "batch=x"]);
    assert.deepEqual(byLabel.trim().split("\n").sort(), ['configmap "one" deleted', 'configmap "two" deleted']);
    const empty = await kubectl().run(["get", "cm", "-n", ns]);
    assert.equal(empty.stderr, `No resources found in ${ns} namespace.\n`);
  });

  it("get all lists the namespace's pods, services, deployments and jobs", async () => {
    const ns = await namespace("all");
    await kubectl().ok(["apply", "-n", ns, "-f", "-"], {
      stdin: manifests(
        deploymentManifest("web", { replicas: 2 }),
        serviceManifest("web", { app: "web" }, 80),
        { apiVersion: "v1", kind: "Pod", metadata: { name: "solo" }, spec: { containers: [{ name: "c", image: "busybox" }] } },
        {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: "once" },
          spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
        },
        configMapManifest("not-in-all", { a: "1" }),
      ),
    });
    const out = await kubectl().ok(["get", "all", "-n", ns]);
    assert.match(out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    assert.match(out, /^pod\/solo\s+0\/1\s+Pending\s+0\s/m);
    assert.match(out, /^service\/web\s+ClusterIP\s/m);
    assert.match(out, /^deployment\.apps\/web\s+0\/2\s+0\s+0\s/m);
    assert.match(out, /^job\.batch\/once\s/m);
    assert.doesNotMatch(out, /configmap/, "ConfigMaps are not in the all category");
  });

  it("prints the server's errors as kubectl prints them", async () => {
    const ns = await namespace("errors");
    const run = (args: string[], stdin?: string) => kubectl().run(args, stdin === undefined ? {} : { stdin });

    let r = await run(["get", "deployments.apps", "missing", "-n", ns]);
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (NotFound): deployments.apps "missing" not found\n']);

    r = await run(["delete", "cm", "missing", "-n", ns]);
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (NotFound): configmaps "missing" not found\n']);

    await kubectl().ok(["create", "-n", ns, "-f", "-"], { stdin: manifests(configMapManifest("dup", { a: "1" })) });
    r = await run(["create", "-n", ns, "-f", "-"], manifests(configMapManifest("dup", { a: "1" })));
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "dup" already exists\n']);

    // replace with a resourceVersion someone else has since moved past.
    const stale = await kubectl().ok(["get", "cm", "dup", "-n", ns, "-o", "yaml"]);
    await kubectl().ok(["label", "cm", "dup", "-n", ns, "moved=on"]);
    r = await run(["replace", "-f", "-"], stale);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again\n',
    );

    r = await run(["create", "-n", ns, "-f", "-"], manifests(configMapManifest("Bad_Name", { a: "1" })));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^The ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);

    r = await run(["create", "-n", ns, "-f", "-"], manifests(deploymentManifest("neg", { replicas: -1 })));
    assert.deepEqual([r.code, r.stderr], [1, 'The Deployment "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n']);

    // Unknown fields: kubectl asks for strict server-side validation.
    const typo = deploymentManifest("typo") as { spec: Record<string, unknown> };
    typo.spec["replica"] = 2;
    r = await run(["create", "-n", ns, "-f", "-"], manifests(typo));
    assert.deepEqual(
      [r.code, r.stderr],
      [
        1,
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"\n',
      ],
    );

    r = await run(["create", "-f", "-"], manifests(configMapManifest("x", { a: "1" }, { namespace: "no-such-namespace" })));
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (NotFound): error when creating "STDIN": namespaces "no-such-namespace" not found\n']);

    r = await run(["get", "widgets"]);
    assert.deepEqual([r.code, r.stderr], [1, 'error: the server doesn\'t have a resource type "widgets"\n']);

    // Nothing of the refused writes was stored.
    const names = (await kubectl().ok(["get", "cm,deploy", "-n", ns, "-o", "name"])).trim().split("\n");
    assert.deepEqual(names, ["configmap/dup"]);
  });

  it("both API servers serve the same objects: a write through one is read through the other at once", async () => {
    const ns = await namespace("two-servers");
    const first = suite.plane.kubectl(0);
    const second = suite.plane.kubectl(1);
    await second.ok(["apply", "-n", ns, "-f", "-"], { stdin: manifests(deploymentManifest("web", { replicas: 1 })) });
    assert.equal(await first.ok(["get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}"]), "1");
    await first.ok(["scale", "deploy", "web", "-n", ns, "--replicas=3"]);
    assert.equal(await second.ok(["get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}"]), "3");
    // Lists, too, are consistent reads (served from a watch cache that has caught up).
    await second.ok(["label", "deploy", "web", "-n", ns, "seen=yes"]);
    assert.equal(await first.ok(["get", "deploy", "-n", ns, "-l", "seen=yes", "-o", "name"]), "deployment.apps/web\n");
  });
});
