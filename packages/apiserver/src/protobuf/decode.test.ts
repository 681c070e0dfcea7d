import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiStatusError } from "@coxswain/api";
import { k8spb } from "@coxswain/proto";
import {
  ProtobufKindUnsupportedError,
  ProtobufMalformedError,
  ProtobufUnsupportedError,
  decodeKubernetesProtobuf,
  decodeProtobufRequestBody,
} from "./decode.js";
import { KUBECTL_BODIES } from "./testing/kubectl-bodies.js";
import { kubectlBody, withExtraField } from "./testing/encode.js";

const core = k8spb.api.core.v1;
const apps = k8spb.api.apps.v1;

/** kubectl's JSON writes some absent fields as null (`creationTimestamp: null`, `rules: null`); the decoder leaves them out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

function decodeAs(apiVersion: string, kind: string, raw: Uint8Array): Record<string, unknown> {
  return decodeKubernetesProtobuf(kubectlBody(apiVersion, kind, raw)) as unknown as Record<string, unknown>;
}

function statusOf(body: Uint8Array): { code: number; reason: string; message: string } {
  try {
    decodeProtobufRequestBody(body);
  } catch (err) {
    assert.ok(err instanceof ApiStatusError, `expected an ApiStatusError, got ${String(err)}`);
    return { code: err.code, reason: err.reason, message: err.status.message ?? "" };
  }
  assert.fail("the body was accepted");
}

const UNIX_2026_01_02_030405 = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;

describe("protobuf bodies captured from kubectl 1.32", () => {
  for (const [name, captured] of Object.entries(KUBECTL_BODIES)) {
    it(`decodes what \`${captured.command}\` sends into the JSON kubectl prints for it (${name})`, () => {
      const decoded = decodeKubernetesProtobuf(Buffer.from(captured.protobufHex, "hex"));
      assert.deepEqual(decoded, withoutNulls(captured.json));
    });
  }
});

describe("conversion to Kubernetes' JSON shape", () => {
  it("writes times in RFC 3339 at second precision and leaves zero times out", () => {
    const raw = core.ConfigMap.encode({
      metadata: {
        name: "t",
        creationTimestamp: { seconds: UNIX_2026_01_02_030405, nanos: 500_000_000 },
        // Go's zero time written explicitly (0001-01-01T00:00:00Z) means "not set", like an empty Time.
        deletionTimestamp: { seconds: -62_135_596_800, nanos: 0 },
      },
    }).finish();
    assert.deepEqual(decodeAs("v1", "ConfigMap", raw)["metadata"], { name: "t", creationTimestamp: "2026-01-02T03:04:05Z" });

    const empty = core.ConfigMap.encode({ metadata: { name: "t", creationTimestamp: {} } }).finish();
    assert.deepEqual(decodeAs("v1", "ConfigMap", empty)["metadata"], { name: "t" });
  });

  it("writes IntOrString as a number or a string, leaving a plain zero out but keeping a pointer's zero", () => {
    const service = core.Service.encode({
      metadata: { name: "s" },
      spec: {
        ports: [
          { name: "web", port: 80, targetPort: { type: 1, intVal: 0, strVal: "http" } },
          { name: "alt", port: 81, targetPort: { type: 0, intVal: 0, strVal: "" } },
        ],
      },
    }).finish();
    const spec = decodeAs("v1", "Service", service)["spec"];
    assert.deepEqual(spec, {
      ports: [
        { name: "web", port: 80, targetPort: "http" },
        { name: "alt", port: 81 },
      ],
    });

    const pdb = k8spb.api.policy.v1.PodDisruptionBudget.encode({
      metadata: { name: "p" },
      spec: { minAvailable: { type: 0, intVal: 0, strVal: "" } },
    }).finish();
    assert.deepEqual(decodeAs("policy/v1", "PodDisruptionBudget", pdb)["spec"], { minAvailable: 0 });
  });

  it("keeps zero in pointer fields and leaves it out of plain fields, as Go's JSON does", () => {
    const raw = apps.Deployment.encode({
      metadata: { name: "d", generation: 0, namespace: "" },
      spec: { replicas: 0, minReadySeconds: 0, paused: false, strategy: { type: "", rollingUpdate: { maxSurge: { type: 1, intVal: 0, strVal: "25%" } } } },
    }).finish();
    assert.deepEqual(decodeAs("apps/v1", "Deployment", raw), {
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "d" },
      spec: { replicas: 0, strategy: { rollingUpdate: { maxSurge: "25%" } } },
    });

    const sa = core.ServiceAccount.encode({ metadata: { name: "sa" }, automountServiceAccountToken: false }).finish();
    assert.equal(decodeAs("v1", "ServiceAccount", sa)["automountServiceAccountToken"], false);

    const pc = k8spb.api.scheduling.v1.PriorityClass.encode({ metadata: { name: "zero" }, value: 0, globalDefault: false }).finish();
    assert.deepEqual(decodeAs("scheduling.k8s.io/v1", "PriorityClass", pc), {
      kind: "PriorityClass",
      apiVersion: "scheduling.k8s.io/v1",
      metadata: { name: "zero" },
      value: 0,
    });
  });

  it("writes bytes as base64 and keeps every map entry, including empty values and a key named __proto__", () => {
    const data: Record<string, Uint8Array> = { empty: new Uint8Array(0) };
    Object.defineProperty(data, "__proto__", { value: Uint8Array.of(1, 2, 3), enumerable: true });
    const raw = core.Secret.encode({ metadata: { name: "s" }, data, type: "Opaque" }).finish();
    const secret = decodeAs("v1", "Secret", raw);
    const decoded = secret["data"] as Record<string, unknown>;
    assert.deepEqual(Object.keys(decoded).sort(), ["__proto__", "empty"]);
    assert.equal(Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value, "AQID");
    assert.equal(decoded["empty"], "");
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.equal(secret["type"], "Opaque");
  });

  it("writes quantities as their strings", () => {
    const raw = core.ResourceQuota.encode({
      metadata: { name: "q" },
      spec: { hard: { cpu: { string: "500m" }, "requests.memory": { string: "1Gi" } } },
    }).finish();
    assert.deepEqual(decodeAs("v1", "ResourceQuota", raw)["spec"], { hard: { cpu: "500m", "requests.memory": "1Gi" } });
  });

  it("decodes a Pod a Go client sends, with its container's resources and ports", () => {
    const raw = core.Pod.encode({
      metadata: { name: "p", labels: { app: "p" } },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox",
            args: ["sleep", "10"],
            ports: [{ containerPort: 8080, protocol: "TCP" }],
            env: [{ name: "MODE", value: "" }],
            resources: { limits: { memory: { string: "64Mi" } }, requests: { cpu: { string: "100m" } } },
          },
        ],
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 0,
        tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 30 }],
      },
      status: { phase: "", qosClass: "" },
    }).finish();
    assert.deepEqual(decodeAs("v1", "Pod", raw), {
      kind: "Pod",
      apiVersion: "v1",
      metadata: { name: "p", labels: { app: "p" } },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox",
            args: ["sleep", "10"],
            ports: [{ containerPort: 8080, protocol: "TCP" }],
            env: [{ name: "MODE" }],
            resources: { limits: { memory: "64Mi" }, requests: { cpu: "100m" } },
          },
        ],
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 0,
        tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 30 }],
      },
      status: {},
    });
  });

  it("ignores empty fields it does not declare, which a newer kubectl writes for its new plain fields", () => {
    const configMap = core.ConfigMap.encode({ metadata: { name: "c" }, data: { a: "b" } }).finish();
    const withEmptyString = withExtraField(configMap, 99, { bytes: new Uint8Array(0) });
    const withZero = withExtraField(withEmptyString, 98, { varint: 0 });
    assert.deepEqual(decodeAs("v1", "ConfigMap", withZero), { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "c" }, data: { a: "b" } });
  });
});

describe("bodies the server refuses", () => {
  it("answers 415 for a kind it has no codec for, listing the kinds it decodes and saying that JSON works", () => {
    const body = kubectlBody("batch/v1", "CronJob", new Uint8Array(0));
    assert.throws(() => decodeKubernetesProtobuf(body), ProtobufKindUnsupportedError);
    const status = statusOf(body);
    assert.equal(status.code, 415);
    assert.equal(status.reason, "UnsupportedMediaType");
    assert.match(status.message, /not for batch\/v1 CronJob/);
    assert.match(status.message, /v1 ConfigMap, Secret, Namespace/);
    assert.match(status.message, /apps\/v1 Deployment/);
    assert.match(status.message, /kubectl create -f file\.yaml/);
    assert.match(status.message, /--dry-run=client -o json \| kubectl create -f -/);
  });

  it("answers 415 for a field it does not know instead of dropping it, naming the message, field number and place", () => {
    // PodSpec field 1 is `volumes`, which proto/k8s leaves out.
    const podSpec = withExtraField(core.PodSpec.encode({ containers: [{ name: "c", image: "busybox" }] }).finish(), 1, {
      bytes: Buffer.from("0a0476617231", "hex"),
    });
    const template = core.PodTemplateSpec.encode({ metadata: {} }).finish();
    const templateWithSpec = withExtraField(template, 2, { bytes: podSpec });
    const deployment = withExtraField(apps.Deployment.encode({ metadata: { name: "d" } }).finish(), 2, {
      bytes: withExtraField(new Uint8Array(0), 3, { bytes: templateWithSpec }),
    });
    const body = kubectlBody("apps/v1", "Deployment", deployment);
    assert.throws(() => decodeKubernetesProtobuf(body), ProtobufUnsupportedError);
    const status = statusOf(body);
    assert.equal(status.code, 415);
    assert.match(status.message, /field number 1 of core\.v1\.PodSpec \(at spec\.template\.spec\)/);
    assert.match(status.message, /as JSON instead/);
  });

  it("answers 415 when the object inside the envelope is compressed", () => {
    const raw = core.ConfigMap.encode({ metadata: { name: "c" } }).finish();
    assert.equal(statusOf(kubectlBody("v1", "ConfigMap", raw, { contentEncoding: "gzip" })).code, 415);
  });

  it("answers 400 for a body without the magic bytes", () => {
    const status = statusOf(Buffer.from('{"kind":"ConfigMap"}'));
    assert.equal(status.code, 400);
    assert.equal(status.reason, "BadRequest");
    assert.match(status.message, /does not start with the magic bytes/);
  });

  it("answers 400 for a truncated body", () => {
    const full = Buffer.from(KUBECTL_BODIES["deployment"]!.protobufHex, "hex");
    const truncated = full.subarray(0, full.length - 20);
    assert.throws(() => decodeKubernetesProtobuf(truncated), ProtobufMalformedError);
    const status = statusOf(truncated);
    assert.equal(status.code, 400);
    assert.match(status.message, /not valid Kubernetes protobuf/);
  });

  it("answers 400 for an envelope that names no kind", () => {
    assert.equal(statusOf(kubectlBody("v1", "", new Uint8Array(0))).code, 400);
  });

  it("answers 400 for an int64 beyond 2^53 rather than rounding it", () => {
    // ObjectMeta.generation (field 7) = 2^60, as a varint.
    const meta = withExtraField(k8spb.apimachinery.pkg.apis.meta.v1.ObjectMeta.encode({ name: "c" }).finish(), 7, { varint: 2 ** 60 });
    const configMap = withExtraField(new Uint8Array(0), 1, { bytes: meta });
    const status = statusOf(kubectlBody("v1", "ConfigMap", configMap));
    assert.equal(status.code, 400);
    assert.match(status.message, /2\^53/);
  });

  it("answers 400 for an IntOrString that is neither a number nor a string", () => {
    const raw = core.Service.encode({ metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: { type: 2, intVal: 0, strVal: "" } }] } }).finish();
    const status = statusOf(kubectlBody("v1", "Service", raw));
    assert.equal(status.code, 400);
    assert.match(status.message, /spec\.ports\[0\]\.targetPort: IntOrString type 2/);
  });
});
