import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiStatusError, findResource, type ResourceDescriptor } from "@coxswain/api";
import {
  checkBodyFields,
  checkPatchedFields,
  fieldValidationDirective,
  findUnknownFields,
  goFormat,
  strictDecodingErrors,
  warningHeaderValue,
} from "./strict.js";

const deployments = findResource("apps", "v1", "deployments") as ResourceDescriptor;
const configmaps = findResource("", "v1", "configmaps") as ResourceDescriptor;
const hpaV1 = findResource("autoscaling", "v1", "horizontalpodautoscalers") as ResourceDescriptor;
const DEPLOYMENT = "io.k8s.api.apps.v1.Deployment";

function deployment(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }] }] } },
      ...extra,
    },
  };
}

function statusOf(fn: () => unknown): { code?: number; reason?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return err.status;
    throw err;
  }
  assert.fail("expected an ApiStatusError");
}

describe("findUnknownFields", () => {
  it("finds nothing in a valid Deployment", () => {
    assert.deepEqual(findUnknownFields({ group: "apps", version: "v1", kind: "Deployment" }, deployment()), []);
  });

  it("names unknown fields by path, list items by index, in document order", () => {
    const obj = deployment({ foo: 1 });
    (obj["metadata"] as Record<string, unknown>)["lables"] = {};
    ((obj["spec"] as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0] ?? {})["imagee"] = "x";
    assert.deepEqual(findUnknownFields({ group: "apps", version: "v1", kind: "Deployment" }, obj), [
      "metadata.lables",
      "spec.template.spec.containers[0].imagee",
      "spec.foo",
    ]);
  });

  it("is case-sensitive, like Kubernetes' decoder", () => {
    assert.deepEqual(findUnknownFields({ group: "apps", version: "v1", kind: "Deployment" }, deployment({ Replicas: 3 })), ["spec.Replicas"]);
  });

  it("accepts any key in maps and anything inside free-form fields", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", annotations: { "anything/goes": "yes" }, managedFields: [{ manager: "m", fieldsV1: { "f:spec": { "f:whatever": {} } } }] },
      spec: { containers: [{ name: "c", resources: { limits: { "example.com/gpu": "1" } } }], volumes: [{ name: "v", iscsi: { anyField: 1 } }] },
    };
    assert.deepEqual(findUnknownFields({ group: "", version: "v1", kind: "Pod" }, pod), []);
  });

  it("does not descend into values of the wrong type (type errors are for validation)", () => {
    assert.deepEqual(findUnknownFields({ group: "apps", version: "v1", kind: "Deployment" }, deployment({ replicas: { nested: true } })), []);
  });

  it("checks each version against its own schema", () => {
    const v1 = {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 3, metrics: [] },
    };
    assert.deepEqual(findUnknownFields({ group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler" }, v1), ["spec.metrics"]);
    assert.deepEqual(findUnknownFields({ group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler" }, v1), []);
  });

  it("knows nothing of kinds outside the schema and finds nothing there", () => {
    assert.deepEqual(findUnknownFields({ group: "example.com", version: "v1", kind: "Widget" }, { whatever: 1 }), []);
  });
});

describe("strictDecodingErrors", () => {
  it("reports unknown and duplicate fields in the order the text has them", () => {
    const text = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","name":"b"},"spec":{"foo":1,"replicas":1,"replicas":2}}';
    assert.deepEqual(strictDecodingErrors(DEPLOYMENT, text), [
      'duplicate field "metadata.name"',
      'unknown field "spec.foo"',
      'duplicate field "spec.replicas"',
    ]);
  });

  it("finds duplicates inside maps and lists, and reports each finding once", () => {
    const text = '{"metadata":{"labels":{"a":"1","a":"2"}},"spec":{"template":{"spec":{"containers":[{"name":"x","bad":1},{"name":"y","bad":1,"bad":2}]}}}}';
    assert.deepEqual(strictDecodingErrors(DEPLOYMENT, text), [
      'duplicate field "metadata.labels.a"',
      'unknown field "spec.template.spec.containers[0].bad"',
      'unknown field "spec.template.spec.containers[1].bad"',
    ]);
  });

  it("handles escaped keys, nested free-form values and whitespace", () => {
    const text =
      '{ "metadata" : { "annotations" : { "a\\"b" : "x" , "a\\u0022b" : "y" } } , "spec" : { "template" : { "spec" : { "volumes" : [ { "name" : "v" , "rbd" : { "k" : [ 1 , { "k" : 2 } ] } } ] } } } }';
    assert.deepEqual(strictDecodingErrors(DEPLOYMENT, text), ['duplicate field "metadata.annotations.a\\"b"']);
  });

  it("finds only duplicates without a schema, and nothing in text that is not JSON", () => {
    assert.deepEqual(strictDecodingErrors(undefined, '{"x":{"y":1,"y":2},"z":1}'), ['duplicate field "x.y"']);
    assert.deepEqual(strictDecodingErrors(DEPLOYMENT, '{"spec": '), []);
  });

  it("stops at 100 findings, like the Go decoder", () => {
    const fields = Array.from({ length: 150 }, (_, i) => `"f${i}":1`).join(",");
    assert.equal(strictDecodingErrors(DEPLOYMENT, `{"spec":{${fields}}}`).length, 100);
  });
});

describe("fieldValidation directive", () => {
  it("defaults to Warn and takes Strict, Warn and Ignore", () => {
    assert.equal(fieldValidationDirective(new URLSearchParams(), "CreateOptions"), "Warn");
    assert.equal(fieldValidationDirective(new URLSearchParams("fieldValidation="), "CreateOptions"), "Warn");
    for (const v of ["Strict", "Warn", "Ignore"]) assert.equal(fieldValidationDirective(new URLSearchParams({ fieldValidation: v }), "PatchOptions"), v);
  });

  it("refuses any other value with 422 naming the options kind", () => {
    const status = statusOf(() => fieldValidationDirective(new URLSearchParams({ fieldValidation: "strict" }), "UpdateOptions"));
    assert.equal(status.code, 422);
    assert.equal(
      status.message,
      'UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
    );
  });
});

describe("checkBodyFields (create and update)", () => {
  const body = (obj: unknown): { bodyText: string; object: Record<string, unknown> } => ({
    bodyText: JSON.stringify(obj),
    object: JSON.parse(JSON.stringify(obj)) as Record<string, unknown>,
  });

  it("fails Strict with Kubernetes' 400 and its wording", () => {
    const { bodyText, object } = body(deployment({ foo: 1, bar: 2 }));
    const status = statusOf(() => checkBodyFields({ resource: deployments, subresource: "", directive: "Strict", bodyText, object }));
    assert.equal(status.code, 400);
    assert.equal(status.reason, "BadRequest");
    assert.equal(
      status.message,
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.bar"',
    );
  });

  it("reports duplicate fields under Strict", () => {
    const bodyText = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"1","k":"2"}}';
    const status = statusOf(() => checkBodyFields({ resource: configmaps, subresource: "", directive: "Strict", bodyText, object: JSON.parse(bodyText) }));
    assert.equal(status.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.k"');
  });

  it("passes a clean body under Strict untouched", () => {
    const { bodyText, object } = body(deployment());
    assert.deepEqual(checkBodyFields({ resource: deployments, subresource: "", directive: "Strict", bodyText, object }), { warnings: [] });
    assert.deepEqual(object, deployment());
  });

  it("drops unknown fields with a warning each under Warn", () => {
    const { bodyText, object } = body(deployment({ foo: 1 }));
    assert.deepEqual(checkBodyFields({ resource: deployments, subresource: "", directive: "Warn", bodyText, object }), {
      warnings: ['unknown field "spec.foo"'],
    });
    assert.deepEqual(object, deployment());
  });

  it("drops unknown fields silently under Ignore", () => {
    const { bodyText, object } = body(deployment({ foo: 1 }));
    assert.deepEqual(checkBodyFields({ resource: deployments, subresource: "", directive: "Ignore", bodyText, object }), { warnings: [] });
    assert.deepEqual(object, deployment());
  });

  it("checks a scale body as an autoscaling/v1 Scale", () => {
    const scale = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "web" }, spec: { replicas: 3, replica: 4 } };
    const status = statusOf(() =>
      checkBodyFields({ resource: deployments, subresource: "scale", directive: "Strict", bodyText: JSON.stringify(scale), object: scale }),
    );
    assert.equal(status.message, 'Scale in version "v1" cannot be handled as a Scale: strict decoding error: unknown field "spec.replica"');
  });

  it("checks an autoscaling/v1 body against the v1 schema, before any conversion", () => {
    const hpa = {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
    };
    assert.deepEqual(checkBodyFields({ resource: hpaV1, subresource: "", directive: "Strict", bodyText: JSON.stringify(hpa), object: hpa }), { warnings: [] });
  });
});

describe("checkPatchedFields (patch)", () => {
  const current = deployment();

  it("fails a strategic merge patch under Strict with 422 on the field `patch`, the patch printed as Go prints a map", () => {
    const patchText = '{"spec":{"foo":1,"template":{"spec":{"containers":[{"name":"web","imagee":"x"}]}}}}';
    const patched = deployment({ foo: 1 });
    ((patched["spec"] as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0] ?? {})["imagee"] = "x";
    const status = statusOf(() =>
      checkPatchedFields({ resource: deployments, subresource: "", directive: "Strict", patchType: "strategic", patchText, current, patched }),
    );
    assert.equal(status.code, 422);
    assert.equal(status.reason, "Invalid");
    assert.equal(
      status.message,
      ' "" is invalid: patch: Invalid value: "map[spec:map[foo:1 template:map[spec:map[containers:[map[imagee:x name:web]]]]]]": strict decoding error: unknown field "spec.template.spec.containers[0].imagee", unknown field "spec.foo"',
    );
  });

  it("puts the patch text's duplicate keys first, then the patched object's unknown fields", () => {
    const patchText = '{"spec":{"replicas":1,"replicas":3,"foo":1}}';
    const outcome = checkPatchedFields({
      resource: deployments,
      subresource: "",
      directive: "Warn",
      patchType: "merge",
      patchText,
      current,
      patched: deployment({ replicas: 3, foo: 1 }),
    });
    assert.deepEqual(outcome.warnings, ['duplicate field "spec.replicas"', 'unknown field "spec.foo"']);
  });

  it("prints the patched object as sorted JSON for a merge patch under Strict", () => {
    const patched = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, extra: 1 };
    const status = statusOf(() =>
      checkPatchedFields({ resource: configmaps, subresource: "", directive: "Strict", patchType: "merge", patchText: '{"extra":1}', current: {}, patched }),
    );
    assert.equal(
      status.message,
      ' "" is invalid: patch: Invalid value: "{\\"apiVersion\\":\\"v1\\",\\"extra\\":1,\\"kind\\":\\"ConfigMap\\",\\"metadata\\":{\\"name\\":\\"c\\"}}": strict decoding error: unknown field "extra"',
    );
  });

  it("reports unknown fields of JSON patch operations with Kubernetes' `json patch` prefix", () => {
    const patchText = '[{"op":"replace","path":"/spec/replicas","value":3,"valu":4}]';
    const outcome = checkPatchedFields({
      resource: deployments,
      subresource: "",
      directive: "Warn",
      patchType: "json",
      patchText,
      current,
      patched: deployment({ replicas: 3 }),
    });
    assert.deepEqual(outcome.warnings, ['json patch unknown field "[0].valu"']);
  });

  it("does not blame a patch for unknown fields the stored object already had, but drops them", () => {
    const stale = deployment({ legacy: true });
    const patched = deployment({ legacy: true, replicas: 5 });
    const outcome = checkPatchedFields({
      resource: deployments,
      subresource: "",
      directive: "Strict",
      patchType: "merge",
      patchText: '{"spec":{"replicas":5}}',
      current: stale,
      patched,
    });
    assert.deepEqual(outcome, { warnings: [] });
    assert.equal((patched["spec"] as Record<string, unknown>)["legacy"], undefined);
  });
});

describe("formatting", () => {
  it("writes Warning header values as Kubernetes does", () => {
    assert.equal(warningHeaderValue('unknown field "spec.foo"'), '299 - "unknown field \\"spec.foo\\""');
  });

  it("prints decoded JSON as Go's %+v prints map[string]interface{}", () => {
    assert.equal(goFormat({ b: [1, "x", null], a: { d: true, c: 0.5 } }), "map[a:map[c:0.5 d:true] b:[1 x <nil>]]");
    assert.equal(goFormat(1234567.5), "1.2345675e+06");
    assert.equal(goFormat(0.00001), "1e-05");
  });
});
