/**
 * The real kubectl 1.32 against the real HTTPS front end and resource handler: kubectl's imperative
 * commands send Kubernetes protobuf, and the server decodes, defaults and validates them like JSON.
 * Commands run with --dry-run=server, so the handler does everything but store (storage here only
 * answers the GET `kubectl autoscale` makes first). Skipped when kubectl is not installed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiStatusError, type KubeObject, type ResourceDescriptor, statusInternalError, statusNotFound } from "@coxswain/api";
import { silentLogger } from "@coxswain/raft";
import { Registry } from "prom-client";
import { createCa, issueServerCertificate } from "../auth/pki.js";
import { OpenApiRoutes } from "../openapi/routes.js";
import { HttpFrontEnd, RawResponse } from "../rest/http-server.js";
import type { ObjectStorage } from "../rest/ports.js";
import { ResourceHandler, type RestRequest, type RestResponse } from "../rest/resource-handler.js";

const KUBECTL_TIMEOUT_MS = 60_000;

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The value at a dotted path ("spec.template.spec.containers.0.image") of a decoded JSON object. */
function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function kubectlInstalled(): Promise<boolean> {
  return new Promise((resolve) => execFile("kubectl", ["version", "--client"], { timeout: KUBECTL_TIMEOUT_MS }, (err) => resolve(err === null)));
}

/** Serves GETs from a fixed set of objects; writing is never reached under --dry-run=server. */
function readOnlyStorage(objects: readonly KubeObject[]): ObjectStorage {
  const notUsed = (): never => {
    throw new ApiStatusError(statusInternalError("storage is not used by this test"));
  };
  return {
    get: (r: ResourceDescriptor, namespace: string, name: string) => {
      const found = objects.find((o) => o.kind === r.kind && (o.metadata.namespace ?? "") === namespace && o.metadata.name === name);
      return found === undefined
        ? Promise.reject(new ApiStatusError(statusNotFound({ group: r.group, resource: r.plural }, name)))
        : Promise.resolve(structuredClone(found));
    },
    create: notUsed,
    list: notUsed,
    update: notUsed,
    delete: notUsed,
    watch: notUsed,
  };
}

/** Remembers the media type of every create, to show that kubectl really sent protobuf. */
class RecordingResourceHandler extends ResourceHandler {
  readonly createContentTypes: string[] = [];

  override handle(req: RestRequest): Promise<RestResponse> {
    if (req.info.verb === "create") this.createContentTypes.push(req.contentType);
    return super.handle(req);
  }
}

const web: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default", uid: "0b0e5c2a-0000-4000-8000-000000000001", resourceVersion: "7", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } },
  },
} as KubeObject;

describe("kubectl 1.32's imperative commands, sent as protobuf", async () => {
  const installed = await kubectlInstalled();
  let dir = "";
  let server: HttpFrontEnd | undefined;
  const resources = new RecordingResourceHandler({ storage: readOnlyStorage([web]), admission: { admit: () => Promise.resolve() } });

  const kubectl = (args: string[]): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const fullArgs = ["--kubeconfig", join(dir, "kubeconfig"), "--cache-dir", join(dir, "cache"), ...args];
      execFile("kubectl", fullArgs, { timeout: KUBECTL_TIMEOUT_MS }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
      });
    });

  /** Runs `kubectl <args> --dry-run=server -o json` and returns the object the server answered with. */
  const createdBy = async (args: string[]): Promise<unknown> => {
    const dashDash = args.indexOf("--");
    const flags = ["--dry-run=server", "-o", "json"];
    const full = dashDash < 0 ? [...args, ...flags] : [...args.slice(0, dashDash), ...flags, ...args.slice(dashDash)];
    const creates = resources.createContentTypes.length;
    const result = await kubectl(full);
    assert.equal(result.code, 0, `kubectl ${full.join(" ")} failed: ${result.stderr}`);
    assert.deepEqual(resources.createContentTypes.slice(creates), ["application/vnd.kubernetes.protobuf"]);
    const object: unknown = JSON.parse(result.stdout);
    // Set by the server's create path, so the protobuf body really went through it.
    assert.match(String(at(object, "metadata.uid")), /^[0-9a-f-]{36}$/);
    return object;
  };

  before(async () => {
    if (!installed) return;
    dir = mkdtempSync(join(tmpdir(), "coxswain-protobuf-"));
    const ca = await createCa("protobuf-test-ca");
    const serving = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const openApi = new OpenApiRoutes();
    server = new HttpFrontEnd({
      host: "127.0.0.1",
      port: 0,
      tls: { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem },
      authenticator: { authenticate: () => Promise.resolve({ name: "admin", uid: "", groups: ["system:masters", "system:authenticated"], extra: {} }) },
      authorizer: { authorize: () => Promise.resolve({ allowed: true, reason: "" }) },
      resources,
      version: {
        major: "1",
        minor: "32",
        gitVersion: "v1.32.0",
        gitCommit: "coxswain",
        gitTreeState: "clean",
        buildDate: "2026-01-01T00:00:00Z",
        goVersion: "node",
        compiler: "tsc",
        platform: "linux/amd64",
      },
      logger: silentLogger,
      registry: new Registry(),
      nonResourceRoutes: (request) => {
        const doc = openApi.respond(request);
        return doc === undefined ? undefined : new RawResponse(doc.status, doc.headers, doc.body);
      },
    });
    await server.listen();
    writeFileSync(
      join(dir, "kubeconfig"),
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "c", cluster: { server: `https://127.0.0.1:${server.port}`, "certificate-authority-data": Buffer.from(ca.certPem).toString("base64") } },
        ],
        users: [{ name: "u", user: { token: "test" } }],
        contexts: [{ name: "c", context: { cluster: "c", user: "u", namespace: "default" } }],
        "current-context": "c",
      }),
    );
  });

  after(async () => {
    await server?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  const skip = !installed && "kubectl not installed";

  it("creates a ConfigMap with kubectl create configmap", { skip }, async () => {
    const cm = await createdBy(["create", "configmap", "demo", "--from-literal=a=b", "--from-literal=empty="]);
    assert.deepEqual(at(cm, "data"), { a: "b", empty: "" });
    assert.equal(at(cm, "metadata.namespace"), "default");
  });

  it("creates a Secret with kubectl create secret generic, data base64-encoded", { skip }, async () => {
    const secret = await createdBy(["create", "secret", "generic", "s", "--from-literal=p=q"]);
    assert.deepEqual(at(secret, "data"), { p: Buffer.from("q").toString("base64") });
    assert.equal(at(secret, "type"), "Opaque");
  });

  it("creates a Deployment with kubectl create deployment, defaulted by the server", { skip }, async () => {
    const deployment = await createdBy(["create", "deployment", "web2", "--image=busybox", "--replicas=2"]);
    assert.equal(at(deployment, "spec.replicas"), 2);
    assert.deepEqual(at(deployment, "spec.selector"), { matchLabels: { app: "web2" } });
    assert.equal(at(deployment, "spec.template.spec.containers.0.image"), "busybox");
    assert.equal(at(deployment, "spec.strategy.type"), "RollingUpdate");
  });

  it("keeps --replicas=0 of kubectl create deployment", { skip }, async () => {
    const deployment = await createdBy(["create", "deployment", "idle", "--image=busybox", "--replicas=0"]);
    assert.equal(at(deployment, "spec.replicas"), 0);
  });

  it("creates a Namespace with kubectl create namespace", { skip }, async () => {
    const namespace = await createdBy(["create", "namespace", "ns1"]);
    assert.equal(at(namespace, "metadata.name"), "ns1");
  });

  it("creates a Service with kubectl create service clusterip", { skip }, async () => {
    const service = await createdBy(["create", "service", "clusterip", "svc", "--tcp=80:8080"]);
    assert.deepEqual(at(service, "spec.ports"), [{ name: "80-8080", protocol: "TCP", port: 80, targetPort: 8080 }]);
    assert.deepEqual(at(service, "spec.selector"), { app: "svc" });
    assert.equal(at(service, "spec.type"), "ClusterIP");
  });

  it("creates a Job with kubectl create job, with its command", { skip }, async () => {
    const job = await createdBy(["create", "job", "j", "--image=busybox", "--", "sleep", "5"]);
    const podSpec = at(job, "spec.template.spec");
    assert.equal(at(podSpec, "restartPolicy"), "Never");
    assert.deepEqual(at(podSpec, "containers.0.command"), ["sleep", "5"]);
  });

  it("creates a ServiceAccount with kubectl create serviceaccount", { skip }, async () => {
    const sa = await createdBy(["create", "serviceaccount", "sa1"]);
    assert.equal(at(sa, "metadata.name"), "sa1");
  });

  it("creates a Role and a RoleBinding with kubectl create role and rolebinding", { skip }, async () => {
    const role = await createdBy(["create", "role", "r", "--verb=get", "--resource=pods"]);
    assert.deepEqual(at(role, "rules"), [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }]);
    const binding = await createdBy(["create", "rolebinding", "rb", "--role=r", "--user=u"]);
    assert.deepEqual(at(binding, "roleRef"), { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" });
    assert.deepEqual(at(binding, "subjects"), [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "u" }]);
  });

  it("creates a ClusterRole and a ClusterRoleBinding", { skip }, async () => {
    const role = await createdBy(["create", "clusterrole", "cr", "--verb=list", "--resource=deployments.apps"]);
    assert.deepEqual(at(role, "rules"), [{ verbs: ["list"], apiGroups: ["apps"], resources: ["deployments"] }]);
    const binding = await createdBy(["create", "clusterrolebinding", "crb", "--clusterrole=cr", "--serviceaccount=default:sa1"]);
    assert.deepEqual(at(binding, "subjects"), [{ kind: "ServiceAccount", name: "sa1", namespace: "default" }]);
  });

  it("creates an Ingress with kubectl create ingress", { skip }, async () => {
    const ingress = await createdBy(["create", "ingress", "ing", "--rule=foo.com/bar*=svc1:8080,tls=my-cert", "--class=nginx"]);
    assert.equal(at(ingress, "spec.ingressClassName"), "nginx");
    assert.deepEqual(at(ingress, "spec.rules.0.http.paths.0"), {
      path: "/bar",
      pathType: "Prefix",
      backend: { service: { name: "svc1", port: { number: 8080 } } },
    });
  });

  it("creates a HorizontalPodAutoscaler with kubectl autoscale", { skip }, async () => {
    const hpa = await createdBy(["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80"]);
    assert.deepEqual(at(hpa, "spec"), {
      scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" },
      minReplicas: 2,
      maxReplicas: 5,
      targetCPUUtilizationPercentage: 80,
    });
  });
});
