import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { ApiStatusError, isApiStatusError, statusBadRequest, type KubeObject, type Namespace, type Pod, type ServiceAccount } from "@coxswain/api";
import { AssertionFailure } from "@coxswain/raft";
import {
  AdmissionChain,
  checkContentLength,
  defaultAdmissionChain,
  NamespaceLifecycle,
  readBodyWithLimit,
  RequestSizeLimit,
  ServiceAccountAdmission,
  type AdmissionAttributes,
  type AdmissionOperation,
  type AdmissionPlugin,
} from "./index.js";

const user = { name: "alice", uid: "", groups: ["system:authenticated"], extra: {} };

function namespace(name: string, phase: "Active" | "Terminating" = "Active"): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name }, status: { phase } };
}

function podAttributes(operation: AdmissionOperation, ns: string, pod?: Pod, name = pod?.metadata.name ?? ""): AdmissionAttributes {
  const attributes: AdmissionAttributes = {
    operation,
    resource: { group: "", version: "v1", resource: "pods" },
    subresource: "",
    kind: { group: "", version: "v1", kind: "Pod" },
    namespace: ns,
    name,
    user,
    dryRun: false,
  };
  if (pod !== undefined) attributes.object = pod;
  return attributes;
}

function namespaceAttributes(operation: AdmissionOperation, name: string): AdmissionAttributes {
  return {
    operation,
    resource: { group: "", version: "v1", resource: "namespaces" },
    subresource: "",
    kind: { group: "", version: "v1", kind: "Namespace" },
    namespace: "",
    name,
    user,
    dryRun: false,
  };
}

function pod(name: string, spec: Partial<NonNullable<Pod["spec"]>> = {}, meta: Partial<Pod["metadata"]> = {}): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, ...meta }, spec: { containers: [{ name: "app", image: "nginx" }], ...spec } };
}

async function rejects(promise: Promise<unknown>, code: number, message: string): Promise<ApiStatusError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof ApiStatusError, `expected ApiStatusError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.equal(caught.status.message, message);
  return caught;
}

describe("admission chain", () => {
  function recorder(name: string, log: string[], options: { refuseIn?: "admit" | "validate" } = {}): AdmissionPlugin {
    return {
      name,
      admit(attributes) {
        log.push(`${name}.admit`);
        if (options.refuseIn === "admit") throw new ApiStatusError(statusBadRequest(`${name} says no`));
        attributes.object!.metadata.labels = { ...attributes.object!.metadata.labels, [name]: "admitted" };
      },
      validate(attributes) {
        log.push(`${name}.validate:${JSON.stringify(attributes.object!.metadata.labels)}`);
        if (options.refuseIn === "validate") throw new ApiStatusError(statusBadRequest(`${name} says no`));
      },
    };
  }

  it("runs every mutating plugin in order, then every validating plugin on the mutated object", async () => {
    const log: string[] = [];
    const chain = new AdmissionChain([recorder("a", log), recorder("b", log)]);
    const attributes = podAttributes("CREATE", "default", pod("p"));
    await chain.admit(attributes);
    await chain.validate(attributes);
    assert.deepEqual(log, ["a.admit", "b.admit", 'a.validate:{"a":"admitted","b":"admitted"}', 'b.validate:{"a":"admitted","b":"admitted"}']);
  });

  it("stops at the first refusal and passes its Status through", async () => {
    const log: string[] = [];
    const chain = new AdmissionChain([recorder("a", log, { refuseIn: "admit" }), recorder("b", log)]);
    await rejects(chain.admit(podAttributes("CREATE", "default", pod("p"))), 400, "a says no");
    assert.deepEqual(log, ["a.admit"]);
  });

  it("turns a plugin's unexpected error into a 500 that names the plugin", async () => {
    const chain = new AdmissionChain([
      {
        name: "Broken",
        validate() {
          throw new TypeError("oops");
        },
      },
    ]);
    await rejects(
      chain.validate(podAttributes("CREATE", "default", pod("p"))),
      500,
      'Internal error occurred: admission plugin "Broken" failed to validate: oops',
    );
  });

  it("lets a failed assertion end the request unchanged, as a bug", async () => {
    const chain = new AdmissionChain([
      {
        name: "Asserting",
        admit() {
          throw new AssertionFailure("invariant");
        },
      },
    ]);
    await assert.rejects(chain.admit(podAttributes("CREATE", "default", pod("p"))), AssertionFailure);
  });

  it("takes more plugins at the end or after a named one, each name once", () => {
    const chain = new AdmissionChain([{ name: "A" }, { name: "C" }]);
    chain.insertAfter("A", { name: "B" }).append({ name: "D" });
    assert.deepEqual(chain.names(), ["A", "B", "C", "D"]);
    assert.throws(() => chain.append({ name: "B" }), AssertionFailure);
  });

  it("puts NamespaceLifecycle first in the default chain", () => {
    const chain = defaultAdmissionChain({ getNamespace: () => undefined, getServiceAccount: () => undefined, extraPlugins: [{ name: "Extra" }] });
    assert.deepEqual(chain.names(), ["NamespaceLifecycle", "ServiceAccount", "RequestSizeLimit", "Extra"]);
  });
});

describe("NamespaceLifecycle", () => {
  const namespaces = new Map<string, Namespace>([
    ["default", namespace("default")],
    ["kube-system", namespace("kube-system")],
    ["team", namespace("team")],
    ["leaving", namespace("leaving", "Terminating")],
  ]);
  const plugin = new NamespaceLifecycle({ getNamespace: async (name) => namespaces.get(name) });

  it("admits a create in an active namespace", async () => {
    await plugin.admit(podAttributes("CREATE", "team", pod("p")));
  });

  it('refuses a create in a missing namespace with 404 namespaces "x" not found', async () => {
    const error = await rejects(plugin.admit(podAttributes("CREATE", "nowhere", pod("p"))), 404, 'namespaces "nowhere" not found');
    assert.equal(error.reason, "NotFound");
    assert.deepEqual(error.status.details, { name: "nowhere", kind: "namespaces" });
  });

  it("refuses an update in a missing namespace", async () => {
    await rejects(plugin.admit(podAttributes("UPDATE", "nowhere", pod("p"))), 404, 'namespaces "nowhere" not found');
  });

  it("refuses a create in a terminating namespace with Kubernetes' message and cause", async () => {
    const error = await rejects(
      plugin.admit(podAttributes("CREATE", "leaving", pod("p"))),
      403,
      'pods "p" is forbidden: unable to create new content in namespace leaving because it is being terminated',
    );
    assert.equal(error.reason, "Forbidden");
    assert.deepEqual(error.status.details?.causes, [
      { reason: "NamespaceTerminating", message: "namespace leaving is being terminated", field: "metadata.namespace" },
    ]);
  });

  it("names a generateName-only object by its prefix, as Kubernetes does", async () => {
    const generated = pod("", {}, { generateName: "web-" });
    await rejects(
      plugin.admit(podAttributes("CREATE", "leaving", generated, "")),
      403,
      'pods "web-" is forbidden: unable to create new content in namespace leaving because it is being terminated',
    );
  });

  it("treats a namespace with a deletionTimestamp as terminating", async () => {
    const deleting = new NamespaceLifecycle({
      getNamespace: () => ({ ...namespace("x"), metadata: { name: "x", deletionTimestamp: "2025-01-01T00:00:00Z" } }),
    });
    await rejects(
      deleting.admit(podAttributes("CREATE", "x", pod("p"))),
      403,
      'pods "p" is forbidden: unable to create new content in namespace x because it is being terminated',
    );
  });

  it("admits updates and deletes in a terminating namespace, so it can be emptied", async () => {
    await plugin.admit(podAttributes("UPDATE", "leaving", pod("p")));
    await plugin.admit(podAttributes("DELETE", "leaving", undefined, "p"));
    await plugin.admit(podAttributes("DELETE", "nowhere", undefined, "p"));
  });

  it("refuses to delete default, kube-system and kube-public", async () => {
    for (const name of ["default", "kube-system", "kube-public"]) {
      await rejects(plugin.admit(namespaceAttributes("DELETE", name)), 403, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    await plugin.admit(namespaceAttributes("DELETE", "team"));
  });

  it("does not look namespaces up for namespace creates or cluster-scoped objects", async () => {
    const strict = new NamespaceLifecycle({
      getNamespace: () => {
        throw new Error("must not be called");
      },
    });
    await strict.admit(namespaceAttributes("CREATE", "new-one"));
    await strict.admit({
      ...namespaceAttributes("CREATE", "n1"),
      resource: { group: "", version: "v1", resource: "nodes" },
      kind: { group: "", version: "v1", kind: "Node" },
    });
  });
});

describe("request size limits", () => {
  it("refuse a declared Content-Length over 3 MiB with 413", () => {
    checkContentLength("3145728");
    assert.throws(
      () => checkContentLength("3145729"),
      (error: unknown) =>
        isApiStatusError(error, "RequestEntityTooLarge") && error.code === 413 && error.message === "Request entity too large: limit is 3145728",
    );
  });

  it("stop reading a body at the limit", async () => {
    let chunksRead = 0;
    async function* chunks() {
      for (let i = 0; i < 100; i++) {
        chunksRead++;
        yield Buffer.alloc(1024, 0x61);
      }
    }
    await assert.rejects(readBodyWithLimit(chunks(), 10 * 1024), (error: unknown) => isApiStatusError(error, "RequestEntityTooLarge"));
    assert.equal(chunksRead, 11);
  });

  it("read a body within the limit whole", async () => {
    const body = await readBodyWithLimit(Readable.from([Buffer.from('{"a":'), Buffer.from("1}")]), 100);
    assert.equal(body.toString(), '{"a":1}');
  });

  it("refuse, in admission, a body that was too large or an object too large to store", async () => {
    const plugin = new RequestSizeLimit({ requestBodySizeBytesMax: 1000, objectSizeBytesMax: 200 });
    assert.throws(
      () => plugin.validate({ ...podAttributes("CREATE", "default", pod("p")), requestBodySizeBytes: 1001 }),
      (error: unknown) => isApiStatusError(error, "RequestEntityTooLarge"),
    );
    plugin.validate({ ...podAttributes("CREATE", "default", pod("p")), requestBodySizeBytes: 150 });
    const big = pod("p", {}, { annotations: { note: "x".repeat(300) } });
    assert.throws(
      () => plugin.validate(podAttributes("UPDATE", "default", big)),
      (error: unknown) => isApiStatusError(error, "RequestEntityTooLarge") && error.message === "Request entity too large: limit is 200",
    );
    plugin.validate(podAttributes("DELETE", "default", big));
  });
});

describe("ServiceAccount admission", () => {
  const accounts: ServiceAccount[] = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: "team", name: "default", uid: "1" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: "team", name: "robot", uid: "2" }, imagePullSecrets: [{ name: "registry" }] },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: "team", name: "quiet", uid: "3" }, automountServiceAccountToken: false },
  ];
  const getServiceAccount = (ns: string, name: string) => accounts.find((a) => a.metadata.namespace === ns && a.metadata.name === name);
  let counter = 0;
  const plugin = new ServiceAccountAdmission({ getServiceAccount, randomInt: (max) => counter++ % max });

  it("defaults the ServiceAccount and mounts its token in every container", async () => {
    const p = pod("web", { initContainers: [{ name: "init", image: "busybox" }] });
    await plugin.admit(podAttributes("CREATE", "team", p));
    assert.equal(p.spec?.serviceAccountName, "default");
    const volume = p.spec?.volumes?.[0];
    assert.match(volume?.name ?? "", /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(
      volume?.projected?.sources?.map((s) => Object.keys(s)[0]),
      ["serviceAccountToken", "configMap", "downwardAPI"],
    );
    for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) {
      assert.deepEqual(c.volumeMounts, [{ name: volume?.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);
    }
  });

  it("refuses a pod whose ServiceAccount does not exist, with Kubernetes' message", async () => {
    await rejects(
      plugin.admit(podAttributes("CREATE", "team", pod("web", { serviceAccountName: "ghost" }))),
      403,
      'pods "web" is forbidden: error looking up service account team/ghost: serviceaccount "ghost" not found',
    );
  });

  it("can be told to let pods without a ServiceAccount through", async () => {
    const lenient = new ServiceAccountAdmission({ getServiceAccount, requireServiceAccount: false });
    const p = pod("web");
    await lenient.admit(podAttributes("CREATE", "elsewhere", p));
    assert.equal(p.spec?.serviceAccountName, "default");
    assert.equal(p.spec?.volumes, undefined);
  });

  it("copies the ServiceAccount's imagePullSecrets to a pod that has none", async () => {
    const p = pod("web", { serviceAccountName: "robot" });
    await plugin.admit(podAttributes("CREATE", "team", p));
    assert.deepEqual(p.spec?.imagePullSecrets, [{ name: "registry" }]);
    const own = pod("web", { serviceAccountName: "robot", imagePullSecrets: [{ name: "mine" }] });
    await plugin.admit(podAttributes("CREATE", "team", own));
    assert.deepEqual(own.spec?.imagePullSecrets, [{ name: "mine" }]);
  });

  it("mounts no token when the pod or, failing that, its ServiceAccount opts out", async () => {
    const quiet = pod("web", { serviceAccountName: "quiet" });
    await plugin.admit(podAttributes("CREATE", "team", quiet));
    assert.equal(quiet.spec?.volumes, undefined);
    const optedIn = pod("web", { serviceAccountName: "quiet", automountServiceAccountToken: true });
    await plugin.admit(podAttributes("CREATE", "team", optedIn));
    assert.equal(optedIn.spec?.volumes?.length, 1);
    const optedOut = pod("web", { automountServiceAccountToken: false });
    await plugin.admit(podAttributes("CREATE", "team", optedOut));
    assert.equal(optedOut.spec?.volumes, undefined);
  });

  it("leaves a container that already mounts something at the token path alone", async () => {
    const p = pod("web", {
      volumes: [{ name: "own", emptyDir: {} }],
      containers: [
        { name: "a", image: "x", volumeMounts: [{ name: "own", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }] },
        { name: "b", image: "x" },
      ],
    });
    await plugin.admit(podAttributes("CREATE", "team", p));
    assert.deepEqual(p.spec?.containers[0]?.volumeMounts, [{ name: "own", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);
    assert.equal(p.spec?.containers[1]?.volumeMounts?.length, 1);
    assert.equal(p.spec?.volumes?.length, 2);
  });

  it("refuses a mirror pod that names a ServiceAccount and admits one that does not", async () => {
    const mirror = { "kubernetes.io/config.mirror": "hash" };
    await rejects(
      plugin.admit(podAttributes("CREATE", "team", pod("static-web", { serviceAccountName: "default" }, { annotations: mirror }))),
      403,
      'pods "static-web" is forbidden: a mirror pod may not reference service accounts',
    );
    const p = pod("static-web", {}, { annotations: mirror });
    await plugin.admit(podAttributes("CREATE", "team", p));
    assert.equal(p.spec?.volumes, undefined);
  });

  it("ignores updates, subresources and other kinds", async () => {
    const strict = new ServiceAccountAdmission({
      getServiceAccount: () => {
        throw new Error("must not be called");
      },
    });
    await strict.admit(podAttributes("UPDATE", "team", pod("p")));
    await strict.admit({ ...podAttributes("CREATE", "team", pod("p")), subresource: "binding" });
    const configMap: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };
    await strict.admit({ ...podAttributes("CREATE", "team"), object: configMap, resource: { group: "", version: "v1", resource: "configmaps" } });
  });
});
