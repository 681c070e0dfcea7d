/**
 * Conformance-style checks of the REST API over raw HTTPS (Node's https with the admin's client
 * certificate): exactly the bytes each case needs, and assertions on the status code, the Status
 * body (reason, message, causes) and — for every refused write — that the stored state did not
 * change. Covers bad input (malformed JSON/YAML/protobuf, wrong types, unknown fields under
 * fieldValidation, oversized bodies, invalid names), conflicts, the three patch types, label and
 * field selectors on lists and watches, watch resume and 410 Gone after compaction, finalizers,
 * namespace lifecycle, and RBAC decisions.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HttpsClient, type RawResponse, type WatchEvent, type WatchStream, jsonOf, waitFor } from "@coxswain/testkit";
import {
  type ConfigMapLike,
  SETTLE_TIMEOUT_MS,
  SUITE_TIMEOUT_MS,
  type StatusLike,
  createNamespace,
  knownBug,
  snapshotList,
  statusOf,
  useControlPlane,
} from "./support.js";
import { configMapManifest, deploymentManifest, manifests } from "./tables.js";

/** Small, so that a few dozen writes push a resourceVersion out of the watch cache's window. */
const WATCH_CACHE_EVENTS = 50;
/** Kubernetes' request body limit (3 MiB). */
const REQUEST_BODY_BYTES_MAX = 3 * 1024 * 1024;

const cmPath = (ns: string, name = ""): string => `/api/v1/namespaces/${ns}/configmaps${name === "" ? "" : `/${name}`}`;

describe("REST API conformance over raw HTTPS", { timeout: SUITE_TIMEOUT_MS }, () => {
  const suite = useControlPlane({ apiServerFlags: [`--watch-cache-events=${WATCH_CACHE_EVENTS}`] });
  const admin = (index = 0): HttpsClient => suite.plane.client(index);

  async function namespace(name: string): Promise<string> {
    await createNamespace(admin(), name);
    return name;
  }

  async function create(ns: string, manifest: object): Promise<ConfigMapLike> {
    const response = await admin().request({ method: "POST", path: cmPath(ns), body: manifest });
    assert.equal(response.status, 201, response.text);
    return jsonOf<ConfigMapLike>(response);
  }

  /** Runs `refused` and checks it got `code`/`reason` and that the namespace's ConfigMaps did not change. */
  async function refusedWithoutWrite(ns: string, code: number, reason: string, refused: () => Promise<RawResponse>): Promise<StatusLike> {
    const before = await snapshotList(admin(), cmPath(ns));
    const response = await refused();
    assert.equal(response.status, code, response.text);
    const status = statusOf(response);
    assert.equal(status.status, "Failure");
    assert.equal(status.reason, reason, status.message);
    assert.deepEqual(await snapshotList(admin(), cmPath(ns)), before, "the stored state is untouched");
    return status;
  }

  async function openWatch(client: HttpsClient, path: string): Promise<WatchStream> {
    const opened = await client.watch(path);
    assert.ok(!("text" in opened), `watch ${path} opened: ${"text" in opened ? `${opened.status} ${opened.text}` : ""}`);
    return opened;
  }

  const named = (name: string) => (e: WatchEvent) => (e.object as unknown as ConfigMapLike).metadata?.name === name;

  describe("bad input", () => {
    it("malformed JSON, a JSON array, and a body of another kind are each a 400 BadRequest that stores nothing", async () => {
      const ns = await namespace("bad-json");
      await create(ns, configMapManifest("existing", { a: "1" }));
      const truncated = await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"' }),
      );
      assert.match(truncated.message, /json/i);
      await refusedWithoutWrite(ns, 400, "BadRequest", () => admin().request({ method: "POST", path: cmPath(ns), body: "[1,2,3]" }));
      const wrongKind = await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: { apiVersion: "v1", kind: "Secret", metadata: { name: "x" } } }),
      );
      assert.match(wrongKind.message, /Secret/);
      await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: configMapManifest("x", {}, { namespace: "elsewhere" }) }),
      );
      // PUT to one name with a body naming another.
      await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({ method: "PUT", path: cmPath(ns, "existing"), body: configMapManifest("other", { a: "2" }) }),
      );
      // A body in a media type the server does not decode.
      await refusedWithoutWrite(ns, 415, "UnsupportedMediaType", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: "a=b", contentType: "text/plain" }),
      );
    });

    it("a YAML body is decoded like JSON; malformed YAML and duplicate keys are a 400 that stores nothing", async () => {
      const ns = await namespace("bad-yaml");
      const yaml = (body: string): Promise<RawResponse> => admin().request({ method: "POST", path: cmPath(ns), body, contentType: "application/yaml" });
      await refusedWithoutWrite(ns, 400, "BadRequest", () => yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n"));
      await refusedWithoutWrite(ns, 400, "BadRequest", () => yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n  name: again\n"));
      const created = await yaml(manifests(configMapManifest("from-yaml", { a: "1" })));
      assert.equal(created.status, 201, created.text);
      assert.deepEqual((await admin().getJson<ConfigMapLike>(cmPath(ns, "from-yaml"))).data, { a: "1" });
      // Strict field validation applies to YAML bodies as to JSON ones.
      const unknown = await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({
          method: "POST",
          path: `${cmPath(ns)}?fieldValidation=Strict`,
          body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\nbogus: 1\n",
          contentType: "application/yaml",
        }),
      );
      assert.match(unknown.message, /unknown field "bogus"/);
    });

    it("a malformed protobuf body is a 400 BadRequest that stores nothing", async () => {
      const ns = await namespace("bad-protobuf");
      const protobuf = "application/vnd.kubernetes.protobuf";
      // Without Kubernetes' magic prefix "k8s\0".
      const noMagic = await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: Buffer.from("not protobuf"), contentType: protobuf }),
      );
      assert.match(noMagic.message, /protobuf/);
      // The prefix, then bytes that are not a runtime.Unknown envelope.
      await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({
          method: "POST",
          path: cmPath(ns),
          body: Buffer.concat([Buffer.from("k8s\0", "latin1"), Buffer.from([0x0a, 0x0b, 0x0c, 0xff, 0xff])]),
          contentType: protobuf,
        }),
      );
    });

    it("wrongly typed fields are a 400 that stores nothing", async (t) => {
      const ns = await namespace("bad-types");
      // TODO(known bug, reported): the API server does not check JSON types against the schema:
      // a number in ConfigMap.data is a 500 InternalError, a string for metadata.labels and for a
      // Deployment's spec.replicas are stored as sent (Kubernetes: 400 "cannot unmarshal ...").
      await knownBug(t, "a number in ConfigMap.data is a 400 that stores nothing", async () => {
        await refusedWithoutWrite(ns, 400, "BadRequest", () =>
          admin().request({
            method: "POST",
            path: cmPath(ns),
            body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "typed-data" }, data: { a: 5 } },
          }),
        );
      });
      await knownBug(t, "a string for metadata.labels is a 400 that stores nothing", async () => {
        await refusedWithoutWrite(ns, 400, "BadRequest", () =>
          admin().request({ method: "POST", path: cmPath(ns), body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "typed-labels", labels: "x" } } }),
        );
      });
      await knownBug(t, "a string for a Deployment's spec.replicas is a 400 that stores nothing", async () => {
        const body = deploymentManifest("typed-replicas") as { spec: Record<string, unknown> };
        body.spec["replicas"] = "two";
        const response = await admin().request({ method: "POST", path: `/apis/apps/v1/namespaces/${ns}/deployments`, body });
        assert.equal(response.status, 400, response.text);
      });
    });

    it("unknown and duplicate fields: Strict refuses with 400 naming them, Warn stores and warns, Ignore stores silently; unknown fields are never stored", async () => {
      const ns = await namespace("field-validation");
      const body = { ...configMapManifest("extra", { a: "1" }), spec: { replicas: 1 } };
      const strict = await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({ method: "POST", path: `${cmPath(ns)}?fieldValidation=Strict`, body }),
      );
      assert.equal(strict.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"');
      const duplicate = await refusedWithoutWrite(ns, 400, "BadRequest", () =>
        admin().request({
          method: "POST",
          path: `${cmPath(ns)}?fieldValidation=Strict`,
          body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}',
        }),
      );
      assert.match(duplicate.message, /duplicate field "data\.a"/);
      // A patch whose result has an unknown field: Kubernetes reports it as an invalid "patch" (422).
      await create(ns, configMapManifest("patched", { a: "1" }));
      const patched = await refusedWithoutWrite(ns, 422, "Invalid", () =>
        admin().request({
          method: "PATCH",
          path: `${cmPath(ns, "patched")}?fieldValidation=Strict`,
          body: { bogus: true },
          contentType: "application/merge-patch+json",
        }),
      );
      assert.equal(patched.details?.causes?.[0]?.field, "patch");
      assert.match(patched.message, /strict decoding error: unknown field "bogus"$/);

      const warned = await admin().request({ method: "POST", path: `${cmPath(ns)}?fieldValidation=Warn`, body: { ...body, metadata: { name: "warned" } } });
      assert.equal(warned.status, 201, warned.text);
      assert.match(String(warned.headers["warning"]), /^299 - "unknown field \\"spec\\""$/);
      const ignored = await admin().request({ method: "POST", path: `${cmPath(ns)}?fieldValidation=Ignore`, body: { ...body, metadata: { name: "ignored" } } });
      assert.equal(ignored.status, 201, ignored.text);
      assert.equal(ignored.headers["warning"], undefined);
      for (const name of ["warned", "ignored"]) {
        const stored = await admin().getJson<Record<string, unknown>>(cmPath(ns, name));
        assert.equal(stored["spec"], undefined, "unknown fields are dropped, never stored");
        assert.deepEqual(stored["data"], { a: "1" });
      }
      const unsupported = await refusedWithoutWrite(ns, 422, "Invalid", () =>
        admin().request({ method: "POST", path: `${cmPath(ns)}?fieldValidation=Sometimes`, body: configMapManifest("x", {}) }),
      );
      assert.equal(unsupported.details?.causes?.[0]?.field, "fieldValidation");
    });

    it("a body over the 3 MiB limit is a 413 RequestEntityTooLarge that stores nothing, whether its size is declared or chunked", async () => {
      const ns = await namespace("oversized");
      const big = JSON.stringify(configMapManifest("big", { blob: "x".repeat(REQUEST_BODY_BYTES_MAX + 1024) }));
      await refusedWithoutWrite(ns, 413, "RequestEntityTooLarge", () => admin().request({ method: "POST", path: cmPath(ns), body: big }));
      await refusedWithoutWrite(ns, 413, "RequestEntityTooLarge", () => admin().request({ method: "POST", path: cmPath(ns), body: big, chunked: true }));
      // A large body under the limit (and under a ConfigMap's 1 MiB data limit) is stored.
      const justUnder = await admin().request({
        method: "POST",
        path: cmPath(ns),
        body: JSON.stringify(configMapManifest("under", { blob: "x".repeat(512 * 1024) })),
      });
      assert.equal(justUnder.status, 201, justUnder.text.slice(0, 300));
    });

    it("invalid names are a 422 Invalid with a cause naming the field, and store nothing", async () => {
      const ns = await namespace("invalid-names");
      const invalid = await refusedWithoutWrite(ns, 422, "Invalid", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: configMapManifest("Not_A_Name", {}) }),
      );
      assert.match(invalid.message, /^ConfigMap "Not_A_Name" is invalid: metadata\.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain/);
      assert.deepEqual(invalid.details?.name, "Not_A_Name");
      assert.deepEqual(invalid.details?.kind, "ConfigMap");
      assert.deepEqual(
        invalid.details?.causes?.map((c) => [c.reason, c.field]),
        [["FieldValueInvalid", "metadata.name"]],
      );
      const tooLong = await refusedWithoutWrite(ns, 422, "Invalid", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: configMapManifest("a".repeat(254), {}) }),
      );
      assert.equal(tooLong.details?.causes?.[0]?.field, "metadata.name");
      const missing = await refusedWithoutWrite(ns, 422, "Invalid", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: { apiVersion: "v1", kind: "ConfigMap", metadata: {} } }),
      );
      assert.deepEqual(
        missing.details?.causes?.map((c) => [c.reason, c.field]),
        [["FieldValueRequired", "metadata.name"]],
      );
      const badLabel = await refusedWithoutWrite(ns, 422, "Invalid", () =>
        admin().request({ method: "POST", path: cmPath(ns), body: configMapManifest("ok-name", {}, { labels: { "bad key!": "v" } }) }),
      );
      assert.equal(badLabel.details?.causes?.[0]?.field, "metadata.labels");
      // A namespace's name must be a DNS label: no dots.
      const before = await snapshotList(admin(), "/api/v1/namespaces");
      const dotted = await admin().request({
        method: "POST",
        path: "/api/v1/namespaces",
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "has.dots" } },
      });
      assert.equal(dotted.status, 422, dotted.text);
      assert.equal(statusOf(dotted).details?.causes?.[0]?.field, "metadata.name");
      assert.deepEqual(await snapshotList(admin(), "/api/v1/namespaces"), before);
      // generateName makes a valid, unique name.
      const generated = await create(ns, { apiVersion: "v1", kind: "ConfigMap", metadata: { generateName: "gen-" } });
      assert.match(generated.metadata.name, /^gen-[a-z0-9]{5}$/);
    });

    it("dryRun=All validates and answers as if stored, and stores nothing", async () => {
      const ns = await namespace("dry-run");
      const before = await snapshotList(admin(), cmPath(ns));
      const response = await admin().request({ method: "POST", path: `${cmPath(ns)}?dryRun=All`, body: configMapManifest("dry", { a: "1" }) });
      assert.equal(response.status, 201, response.text);
      assert.equal(jsonOf<ConfigMapLike>(response).metadata.name, "dry");
      assert.deepEqual(await snapshotList(admin(), cmPath(ns)), before);
      const invalid = await admin().request({ method: "POST", path: `${cmPath(ns)}?dryRun=All`, body: configMapManifest("Bad_Dry", {}) });
      assert.equal(invalid.status, 422);
    });
  });

  describe("conflicts", () => {
    it("an update with a stale resourceVersion is a 409 Conflict and changes nothing; without one it is unconditional", async () => {
      const ns = await namespace("conflicts");
      const first = await create(ns, configMapManifest("cm", { v: "1" }));
      const second = await admin().request({ method: "PUT", path: cmPath(ns, "cm"), body: { ...first, data: { v: "2" } } });
      assert.equal(second.status, 200, second.text);
      const current = jsonOf<ConfigMapLike>(second);
      assert.ok(Number(current.metadata.resourceVersion) > Number(first.metadata.resourceVersion));

      const stale = await refusedWithoutWrite(ns, 409, "Conflict", () =>
        admin().request({ method: "PUT", path: cmPath(ns, "cm"), body: { ...first, data: { v: "stale" } } }),
      );
      assert.equal(
        stale.message,
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your changes to the latest version and try again',
      );
      assert.equal(stale.details?.name, "cm");
      // The same precondition in a patch body.
      await refusedWithoutWrite(ns, 409, "Conflict", () =>
        admin().request({
          method: "PATCH",
          path: cmPath(ns, "cm"),
          body: { metadata: { resourceVersion: first.metadata.resourceVersion }, data: { v: "stale" } },
          contentType: "application/merge-patch+json",
        }),
      );
      // And in DeleteOptions.
      await refusedWithoutWrite(ns, 409, "Conflict", () =>
        admin().request({
          method: "DELETE",
          path: cmPath(ns, "cm"),
          body: { kind: "DeleteOptions", apiVersion: "v1", preconditions: { resourceVersion: first.metadata.resourceVersion } },
        }),
      );
      await refusedWithoutWrite(ns, 409, "AlreadyExists", () => admin().request({ method: "POST", path: cmPath(ns), body: configMapManifest("cm", {}) }));
      // The other API server refuses the stale write the same way.
      await refusedWithoutWrite(ns, 409, "Conflict", () =>
        admin(1).request({ method: "PUT", path: cmPath(ns, "cm"), body: { ...first, data: { v: "stale" } } }),
      );

      // Without a resourceVersion, last writer wins (Kubernetes allows unconditional updates of these kinds).
      const { resourceVersion: _dropped, ...metadata } = current.metadata;
      void _dropped;
      const unconditional = await admin(1).request({ method: "PUT", path: cmPath(ns, "cm"), body: { ...current, metadata, data: { v: "3" } } });
      assert.equal(unconditional.status, 200, unconditional.text);
      assert.deepEqual((await admin().getJson<ConfigMapLike>(cmPath(ns, "cm"))).data, { v: "3" });
      // Updating something that does not exist is a 404.
      await refusedWithoutWrite(ns, 404, "NotFound", () =>
        admin().request({ method: "PUT", path: cmPath(ns, "absent"), body: configMapManifest("absent", {}) }),
      );
    });
  });

  describe("patches", () => {
    it("JSON merge, strategic merge and JSON patches each apply by their own rules; malformed or failing patches change nothing", async () => {
      const ns = await namespace("patches");
      const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
      const created = await admin().request({ method: "POST", path: deployments, body: deploymentManifest("web", { replicas: 1 }) });
      assert.equal(created.status, 201, created.text);
      type Deployment = {
        metadata: { labels?: Record<string, string>; finalizers?: string[]; resourceVersion: string };
        spec: { replicas: number; template: { spec: { containers: Array<{ name: string; image: string; ports?: unknown[] }> } } };
      };
      const patch = async (body: unknown, contentType: string): Promise<RawResponse> =>
        admin().request({ method: "PATCH", path: `${deployments}/web`, body, contentType });
      const read = (): Promise<Deployment> => admin().getJson<Deployment>(`${deployments}/web`);

      // Strategic: containers merge by name, in the order "$setElementOrder/containers" gives (as
      // kubectl sends it); finalizers, a list of primitives with patchStrategy merge, merge.
      let response = await patch(
        {
          metadata: { finalizers: ["example.com/a"] },
          spec: {
            template: {
              spec: {
                "$setElementOrder/containers": [{ name: "side" }, { name: "main" }],
                containers: [
                  { name: "side", image: "busybox" },
                  { name: "main", image: "nginx:1.29" },
                ],
              },
            },
          },
        },
        "application/strategic-merge-patch+json",
      );
      assert.equal(response.status, 200, response.text);
      let d = await read();
      assert.deepEqual(
        d.spec.template.spec.containers.map((c) => [c.name, c.image, c.ports !== undefined]),
        [
          ["side", "busybox", false],
          ["main", "nginx:1.29", true],
        ],
      );
      response = await patch({ metadata: { finalizers: ["example.com/b"] } }, "application/strategic-merge-patch+json");
      assert.equal(response.status, 200, response.text);
      // Merged, not replaced; the patch's items first, then the live-only ones (Kubernetes'
      // normalizeElementOrder: an item absent from the live list sorts before the live items).
      assert.deepEqual((await read()).metadata.finalizers, ["example.com/b", "example.com/a"], "finalizers merge (patchStrategy merge)");
      response = await patch({ metadata: { "$deleteFromPrimitiveList/finalizers": ["example.com/a"] } }, "application/strategic-merge-patch+json");
      assert.equal(response.status, 200, response.text);
      assert.deepEqual((await read()).metadata.finalizers, ["example.com/b"], "$deleteFromPrimitiveList removes just that value");
      response = await patch({ metadata: { finalizers: null } }, "application/strategic-merge-patch+json");
      assert.equal(response.status, 200, response.text);
      assert.equal((await read()).metadata.finalizers, undefined);
      response = await patch({ spec: { template: { spec: { containers: [{ name: "side", $patch: "delete" }] } } } }, "application/strategic-merge-patch+json");
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(
        (await read()).spec.template.spec.containers.map((c) => c.name),
        ["main"],
      );

      // JSON merge: lists are replaced whole; null removes a key.
      response = await patch({ metadata: { labels: { app: "web", extra: "x" } } }, "application/merge-patch+json");
      assert.equal(response.status, 200);
      response = await patch(
        { metadata: { labels: { extra: null } }, spec: { template: { spec: { containers: [{ name: "main", image: "nginx:1.30" }] } } } },
        "application/merge-patch+json",
      );
      assert.equal(response.status, 200, response.text);
      d = await read();
      assert.deepEqual(d.metadata.labels, { app: "web" });
      assert.equal(d.spec.template.spec.containers[0]?.ports, undefined, "a merge patch replaces the list");

      // JSON patch: operations in order; a failing test is a 422 and nothing changes.
      response = await patch(
        [
          { op: "test", path: "/spec/replicas", value: 1 },
          { op: "replace", path: "/spec/replicas", value: 5 },
          { op: "add", path: "/metadata/labels/added", value: "yes" },
        ],
        "application/json-patch+json",
      );
      assert.equal(response.status, 200, response.text);
      d = await read();
      assert.deepEqual([d.spec.replicas, d.metadata.labels?.["added"]], [5, "yes"]);

      const before = (await read()).metadata.resourceVersion;
      const failing = await patch(
        [
          { op: "test", path: "/spec/replicas", value: 99 },
          { op: "replace", path: "/spec/replicas", value: 1 },
        ],
        "application/json-patch+json",
      );
      assert.equal(failing.status, 422, failing.text);
      assert.equal(statusOf(failing).reason, "Invalid");
      const malformed = await patch("{not json", "application/merge-patch+json");
      assert.equal(malformed.status, 400, malformed.text);
      assert.equal(statusOf(malformed).reason, "BadRequest");
      const unsupported = await patch({ spec: {} }, "application/json");
      assert.equal(unsupported.status, 415, unsupported.text);
      // apps/v1 selectors are immutable.
      const immutable = await patch({ spec: { selector: { matchLabels: { app: "other" } } } }, "application/merge-patch+json");
      assert.equal(immutable.status, 422, immutable.text);
      assert.match(statusOf(immutable).message, /field is immutable/);
      assert.equal((await read()).metadata.resourceVersion, before, "refused patches wrote nothing");
    });
  });

  describe("selectors", () => {
    it("label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors filter lists; malformed or unsupported selectors are a 400", async () => {
      const ns = await namespace("selectors");
      const objects: Array<[string, Record<string, string>]> = [
        ["red", { color: "red", size: "s" }],
        ["blue", { color: "blue", size: "m" }],
        ["green", { color: "green" }],
        ["none", {}],
      ];
      for (const [name, labels] of objects) await create(ns, configMapManifest(name, { n: name }, { labels }));
      const names = async (query: string): Promise<string[]> =>
        (await admin().getJson<{ items: ConfigMapLike[] }>(`${cmPath(ns)}?${query}`)).items.map((o) => o.metadata.name).sort();
      const byLabel = (selector: string): Promise<string[]> => names(`labelSelector=${encodeURIComponent(selector)}`);
      assert.deepEqual(await byLabel("color=red"), ["red"]);
      assert.deepEqual(await byLabel("color==blue"), ["blue"]);
      assert.deepEqual(await byLabel("color!=red"), ["blue", "green", "none"]);
      assert.deepEqual(await byLabel("color in (red, green)"), ["green", "red"]);
      assert.deepEqual(await byLabel("color notin (red,green)"), ["blue", "none"]);
      assert.deepEqual(await byLabel("size"), ["blue", "red"]);
      assert.deepEqual(await byLabel("!size"), ["green", "none"]);
      // != also matches objects without the label (Kubernetes' semantics).
      assert.deepEqual(await byLabel("color,size!=s"), ["blue", "green"]);
      assert.deepEqual(await byLabel(""), ["blue", "green", "none", "red"]);

      const byField = (selector: string): Promise<string[]> => names(`fieldSelector=${encodeURIComponent(selector)}`);
      assert.deepEqual(await byField("metadata.name=green"), ["green"]);
      assert.deepEqual(await byField("metadata.name!=green"), ["blue", "none", "red"]);
      assert.deepEqual(await byField(`metadata.namespace=${ns}`), ["blue", "green", "none", "red"]);
      assert.deepEqual(await names(`labelSelector=color&fieldSelector=${encodeURIComponent("metadata.name!=red")}`), ["blue", "green"]);
      // Across namespaces.
      const everywhere = await admin().getJson<{ items: ConfigMapLike[] }>(
        `/api/v1/configmaps?fieldSelector=${encodeURIComponent(`metadata.namespace=${ns},metadata.name=red`)}`,
      );
      assert.deepEqual(
        everywhere.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
        [`${ns}/red`],
      );

      for (const bad of [
        `labelSelector=${encodeURIComponent("color in (red")}`,
        `labelSelector=${encodeURIComponent("a=b=c")}`,
        `fieldSelector=${encodeURIComponent("data.n=red")}`,
      ]) {
        const response = await admin().request({ method: "GET", path: `${cmPath(ns)}?${bad}` });
        assert.equal(response.status, 400, `${bad}: ${response.text}`);
        assert.equal(statusOf(response).reason, "BadRequest");
      }
      // Pods support spec.nodeName and status.phase (what kubelets and kubectl use).
      const pods = await admin().getJson<{ items: unknown[] }>(
        `/api/v1/namespaces/${ns}/pods?fieldSelector=${encodeURIComponent("spec.nodeName=n1,status.phase!=Running")}`,
      );
      assert.deepEqual(pods.items, []);
    });

    it("a watch with a label selector sees objects enter as ADDED and leave as DELETED when their labels change", async () => {
      const ns = await namespace("selector-watch");
      const tracked = await create(ns, configMapManifest("tracked", { a: "1" }, { labels: { watched: "yes" } }));
      await create(ns, configMapManifest("ignored", { a: "1" }, { labels: { watched: "no" } }));
      const watch = await openWatch(admin(1), `${cmPath(ns)}?watch=1&labelSelector=watched%3Dyes&resourceVersion=${tracked.metadata.resourceVersion}`);
      try {
        const merge = (name: string, body: unknown): Promise<RawResponse> =>
          admin().request({ method: "PATCH", path: cmPath(ns, name), body, contentType: "application/merge-patch+json" });
        assert.equal((await merge("ignored", { data: { a: "2" } })).status, 200);
        assert.equal((await merge("tracked", { metadata: { labels: { watched: "no" } } })).status, 200);
        assert.equal((await merge("ignored", { metadata: { labels: { watched: "yes" } } })).status, 200);
        const left = await watch.next(SETTLE_TIMEOUT_MS);
        assert.deepEqual(
          [left?.type, (left?.object as unknown as ConfigMapLike | undefined)?.metadata.name],
          ["DELETED", "tracked"],
          "leaving the selection is a DELETED",
        );
        const entered = await watch.next(SETTLE_TIMEOUT_MS);
        assert.deepEqual(
          [entered?.type, (entered?.object as unknown as ConfigMapLike | undefined)?.metadata.name],
          ["ADDED", "ignored"],
          "entering it is an ADDED",
        );
      } finally {
        watch.close();
      }
    });
  });

  describe("watch", () => {
    it("resumes from a resourceVersion: exactly the later events, in order; without one it starts with the current objects", async () => {
      const ns = await namespace("watch-resume");
      const start = await create(ns, configMapManifest("w", { v: "0" }));
      for (const v of ["1", "2", "3"]) {
        const r = await admin().request({ method: "PATCH", path: cmPath(ns, "w"), body: { data: { v } }, contentType: "application/merge-patch+json" });
        assert.equal(r.status, 200);
      }
      // Resume on the other API server: its cache holds the same history.
      const resumed = await openWatch(admin(1), `${cmPath(ns)}?watch=true&resourceVersion=${start.metadata.resourceVersion}`);
      try {
        const seen: Array<[string, string | undefined, number]> = [];
        for (let i = 0; i < 3; i++) {
          const event = await resumed.next(SETTLE_TIMEOUT_MS);
          const o = event?.object as unknown as ConfigMapLike;
          seen.push([event?.type ?? "", o.data?.["v"], Number(o.metadata.resourceVersion)]);
        }
        assert.deepEqual(
          seen.map(([type, v]) => [type, v]),
          [
            ["MODIFIED", "1"],
            ["MODIFIED", "2"],
            ["MODIFIED", "3"],
          ],
        );
        assert.ok(seen[0]![2] > Number(start.metadata.resourceVersion) && seen[1]![2] > seen[0]![2] && seen[2]![2] > seen[1]![2], "resourceVersions increase");
      } finally {
        resumed.close();
      }

      const fromNow = await openWatch(admin(), `${cmPath(ns)}?watch=1`);
      try {
        const first = await fromNow.next(SETTLE_TIMEOUT_MS);
        assert.deepEqual(
          [first?.type, (first?.object as unknown as ConfigMapLike | undefined)?.data?.["v"]],
          ["ADDED", "3"],
          "a watch without a resourceVersion starts with the current state",
        );
        await create(ns, configMapManifest("later", {}));
        await fromNow.until("ADDED later", (e) => e.type === "ADDED" && named("later")(e), SETTLE_TIMEOUT_MS);
      } finally {
        fromNow.close();
      }
    });

    it("a watch from a resourceVersion older than the cache's window ends with an ERROR event carrying 410 Expired; lists at a compacted revision are a 410 too", async () => {
      const ns = await namespace("watch-expired");
      const old = await create(ns, configMapManifest("old", { v: "0" }));
      await create(ns, configMapManifest("second", { v: "0" }));
      const paged = await admin().getJson<{ metadata: { continue?: string } }>(`${cmPath(ns)}?limit=1`);
      // Push the old resourceVersion out of the watch cache's window.
      for (let i = 0; i < WATCH_CACHE_EVENTS + 10; i++) {
        const r = await admin().request({
          method: "PATCH",
          path: cmPath(ns, "second"),
          body: { data: { v: String(i) } },
          contentType: "application/merge-patch+json",
        });
        assert.equal(r.status, 200);
      }
      for (const index of [0, 1]) {
        const opened = await admin(index).watch(`${cmPath(ns)}?watch=1&resourceVersion=${old.metadata.resourceVersion}`);
        let expired: StatusLike;
        if ("text" in opened) {
          // An HTTP 410 is Kubernetes' other way of saying it.
          expired = statusOf(opened);
        } else {
          const event = await opened.next(SETTLE_TIMEOUT_MS);
          opened.close();
          assert.equal(event?.type, "ERROR", `an ERROR event, got ${JSON.stringify(event)}`);
          expired = event?.object as unknown as StatusLike;
        }
        assert.deepEqual([expired.code, expired.reason], [410, "Expired"]);
        assert.match(expired.message, /^too old resource version: \d+ \(\d+\)$/);
      }

      // Compact the store past the old revision: exact reads there, and continue tokens from before, are gone.
      const store = suite.plane.store.member(0).connection;
      await store.compact(await store.currentRevision(5000), 5000);
      const exact = await admin().request({ method: "GET", path: `${cmPath(ns)}?resourceVersion=${old.metadata.resourceVersion}&resourceVersionMatch=Exact` });
      assert.equal(exact.status, 410, exact.text);
      assert.deepEqual([statusOf(exact).reason, statusOf(exact).message], ["Expired", "The resourceVersion for the provided list is too old."]);
      assert.ok(paged.metadata.continue, "the first page had a continue token");
      const continued = await admin(1).request({ method: "GET", path: `${cmPath(ns)}?limit=1&continue=${encodeURIComponent(paged.metadata.continue)}` });
      assert.equal(continued.status, 410, continued.text);
      assert.equal(statusOf(continued).reason, "Expired");
      // Relisting (what an informer does on 410) works and watching from its resourceVersion works.
      const relisted = await admin().getJson<{ metadata: { resourceVersion: string }; items: ConfigMapLike[] }>(cmPath(ns));
      assert.deepEqual(relisted.items.map((o) => o.metadata.name).sort(), ["old", "second"]);
      const rewatch = await openWatch(admin(), `${cmPath(ns)}?watch=1&resourceVersion=${relisted.metadata.resourceVersion}`);
      try {
        await admin().request({ method: "PATCH", path: cmPath(ns, "old"), body: { data: { v: "new" } }, contentType: "application/merge-patch+json" });
        const event = await rewatch.next(SETTLE_TIMEOUT_MS);
        assert.deepEqual([event?.type, (event?.object as unknown as ConfigMapLike | undefined)?.metadata.name], ["MODIFIED", "old"]);
      } finally {
        rewatch.close();
      }
    });
  });

  describe("deletion", () => {
    it("finalizers keep a deleted object, marked with a deletionTimestamp, until the last one is removed; then watchers see DELETED", async () => {
      const ns = await namespace("finalizers");
      const held = await create(ns, configMapManifest("held", { a: "1" }, { finalizers: ["example.com/one", "example.com/two"] }));
      const watch = await openWatch(admin(1), `${cmPath(ns)}?watch=1&resourceVersion=${held.metadata.resourceVersion}`);
      try {
        const deleted = await admin().request({ method: "DELETE", path: cmPath(ns, "held") });
        assert.equal(deleted.status, 200, deleted.text);
        const marked = jsonOf<ConfigMapLike>(deleted);
        assert.ok(marked.metadata.deletionTimestamp, "the answer is the object, marked");
        assert.deepEqual(marked.metadata.finalizers, ["example.com/one", "example.com/two"]);
        const modified = await watch.next(SETTLE_TIMEOUT_MS);
        assert.equal(modified?.type, "MODIFIED");

        // Still readable, still updatable.
        const read = await admin(1).getJson<ConfigMapLike>(cmPath(ns, "held"));
        assert.equal(read.metadata.deletionTimestamp, marked.metadata.deletionTimestamp);
        const merge = (body: unknown): Promise<RawResponse> =>
          admin().request({ method: "PATCH", path: cmPath(ns, "held"), body, contentType: "application/merge-patch+json" });
        assert.equal((await merge({ data: { a: "2" } })).status, 200);
        // A second delete changes nothing about the deletion.
        const again = await admin().request({ method: "DELETE", path: cmPath(ns, "held") });
        assert.equal(again.status, 200, again.text);
        assert.equal(jsonOf<ConfigMapLike>(again).metadata.deletionTimestamp, marked.metadata.deletionTimestamp);
        // No new finalizers once deletion has begun (Kubernetes' ValidateObjectMetaUpdate).
        const added = await merge({ metadata: { finalizers: ["example.com/one", "example.com/two", "example.com/three"] } });
        assert.equal(added.status, 422, added.text);
        assert.match(statusOf(added).message, /no new finalizers can be added if the object is being deleted/);

        assert.equal((await merge({ metadata: { finalizers: ["example.com/two"] } })).status, 200);
        assert.equal((await admin().request({ method: "GET", path: cmPath(ns, "held") })).status, 200, "one finalizer left: still there");
        const released = await merge({ metadata: { finalizers: null } });
        assert.equal(released.status, 200, released.text);
        const gone = await admin(1).request({ method: "GET", path: cmPath(ns, "held") });
        assert.equal(gone.status, 404, "the last finalizer removed: gone, on every API server");
        await watch.until("DELETED held", (e) => e.type === "DELETED" && named("held")(e), SETTLE_TIMEOUT_MS);
      } finally {
        watch.close();
      }
    });

    it("a namespace being deleted is Terminating and refuses new objects with 403; objects in a missing namespace are a 404", async () => {
      const ns = await namespace("terminating");
      await create(ns, configMapManifest("inside", {}));
      const deleted = await admin().request({ method: "DELETE", path: `/api/v1/namespaces/${ns}` });
      assert.equal(deleted.status, 200, deleted.text);
      const phase = await waitFor(
        "the namespace is Terminating",
        async () => {
          const n = await admin(1).getJson<{ status?: { phase?: string } }>(`/api/v1/namespaces/${ns}`);
          return n.status?.phase === "Terminating" ? n.status.phase : undefined;
        },
        { timeoutMs: SETTLE_TIMEOUT_MS },
      );
      assert.equal(phase, "Terminating");
      const refused = await refusedWithoutWrite(ns, 403, "Forbidden", () =>
        admin(1).request({ method: "POST", path: cmPath(ns), body: configMapManifest("late", {}) }),
      );
      assert.match(refused.message, new RegExp(`unable to create new content in namespace ${ns} because it is being terminated`));
      const missing = await admin().request({ method: "POST", path: cmPath("never-created"), body: configMapManifest("x", {}) });
      assert.equal(missing.status, 404, missing.text);
      assert.equal(statusOf(missing).message, 'namespaces "never-created" not found');
    });
  });

  describe("authentication and RBAC", () => {
    it("a request without credentials is a 401; a user with a certificate but no bindings gets 403 with Kubernetes' message", async () => {
      const anonymous = suite.plane.client(0, { caPem: suite.plane.admin.caPem });
      const unauthorized = await anonymous.request({ method: "GET", path: "/api/v1/namespaces" });
      assert.equal(unauthorized.status, 401);
      assert.equal(statusOf(unauthorized).reason, "Unauthorized");

      const ns = await namespace("rbac-none");
      const nobody = await suite.plane.addUser("nobody");
      const client = suite.plane.client(0, nobody.credentials);
      const list = await client.request({ method: "GET", path: cmPath(ns) });
      assert.equal(list.status, 403, list.text);
      const status = statusOf(list);
      assert.equal(status.reason, "Forbidden");
      assert.equal(status.message, `configmaps is forbidden: User "nobody" cannot list resource "configmaps" in API group "" in the namespace "${ns}"`);
      const get = statusOf(await client.request({ method: "GET", path: `/apis/apps/v1/namespaces/${ns}/deployments/web` }));
      assert.equal(
        get.message,
        `deployments.apps "web" is forbidden: User "nobody" cannot get resource "deployments" in API group "apps" in the namespace "${ns}"`,
      );
      const nodes = statusOf(await client.request({ method: "GET", path: "/api/v1/nodes" }));
      assert.equal(nodes.message, 'nodes is forbidden: User "nobody" cannot list resource "nodes" in API group "" at the cluster scope');
      await refusedWithoutWrite(ns, 403, "Forbidden", () => client.request({ method: "POST", path: cmPath(ns), body: configMapManifest("x", {}) }));
      // Every authenticated user may read discovery (system:discovery, system:basic-user).
      assert.equal((await client.request({ method: "GET", path: "/api" })).status, 200);
      assert.equal((await client.request({ method: "GET", path: "/apis/apps/v1" })).status, 200);
      // kubectl prints the same message.
      const printed = await nobody.kubectl.run(["get", "configmaps", "-n", ns]);
      assert.equal(printed.code, 1);
      assert.equal(
        printed.stderr,
        `Error from server (Forbidden): configmaps is forbidden: User "nobody" cannot list resource "configmaps" in API group "" in the namespace "${ns}"\n`,
      );
    });

    it("a RoleBinding grants exactly what its Role says: those verbs, those resources, that namespace — to that user or group", async () => {
      const granted = await namespace("rbac-granted");
      const other = await namespace("rbac-other");
      await create(granted, configMapManifest("visible", { a: "1" }));
      const alice = await suite.plane.addUser("alice");
      const bob = await suite.plane.addUser("bob", ["readers"]);
      const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${granted}`;
      const post = async (path: string, body: unknown): Promise<void> => {
        const r = await admin().request({ method: "POST", path, body });
        assert.equal(r.status, 201, r.text);
      };
      await post(`${rbac}/roles`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "configmap-reader" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
      });
      await post(`${rbac}/rolebindings`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "alice-reads" },
        subjects: [{ kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" }],
        roleRef: { kind: "Role", name: "configmap-reader", apiGroup: "rbac.authorization.k8s.io" },
      });
      // A group subject, bound to a bootstrap ClusterRole within the namespace only.
      await post(`${rbac}/rolebindings`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "readers-view" },
        subjects: [{ kind: "Group", name: "readers", apiGroup: "rbac.authorization.k8s.io" }],
        roleRef: { kind: "ClusterRole", name: "view", apiGroup: "rbac.authorization.k8s.io" },
      });

      // Both API servers learn bindings from their watch caches: wait until each allows, then check everything else.
      for (const index of [0, 1]) {
        for (const user of [alice, bob]) {
          const client = suite.plane.client(index, user.credentials);
          await waitFor(
            `${user.name} may list configmaps on API server ${index + 1}`,
            async () => ((await client.request({ method: "GET", path: cmPath(granted) })).status === 200 ? true : undefined),
            {
              timeoutMs: SETTLE_TIMEOUT_MS,
            },
          );
        }
      }
      const as = (user: typeof alice): HttpsClient => suite.plane.client(1, user.credentials);
      const code = async (user: typeof alice, method: string, path: string, body?: unknown): Promise<number> =>
        (await as(user).request({ method, path, ...(body !== undefined ? { body } : {}) })).status;

      assert.equal(await code(alice, "GET", cmPath(granted, "visible")), 200);
      const watch = await as(alice).watch(`${cmPath(granted)}?watch=1`);
      assert.ok(!("text" in watch), "alice may watch");
      watch.close();
      assert.equal(await code(alice, "GET", cmPath(other)), 403, "not in another namespace");
      assert.equal(await code(alice, "GET", "/api/v1/configmaps"), 403, "not across all namespaces");
      assert.equal(await code(alice, "GET", `/api/v1/namespaces/${granted}/secrets`), 403, "not another resource");
      assert.equal(await code(alice, "POST", cmPath(granted), configMapManifest("by-alice", {})), 403, "not another verb");
      assert.equal(await code(alice, "DELETE", cmPath(granted, "visible")), 403);

      // view: read most things in the namespace (not secrets), write nothing.
      assert.equal(await code(bob, "GET", cmPath(granted)), 200);
      assert.equal(await code(bob, "GET", `/apis/apps/v1/namespaces/${granted}/deployments`), 200);
      assert.equal(await code(bob, "GET", `/api/v1/namespaces/${granted}/secrets`), 403);
      assert.equal(await code(bob, "PATCH", cmPath(granted, "visible")), 403);
      assert.equal(await code(bob, "GET", cmPath(other)), 403);

      // Removing the binding takes the grant away again.
      const removed = await admin().request({ method: "DELETE", path: `${rbac}/rolebindings/alice-reads` });
      assert.equal(removed.status, 200, removed.text);
      await waitFor(
        "alice loses the grant",
        async () => ((await as(alice).request({ method: "GET", path: cmPath(granted) })).status === 403 ? true : undefined),
        { timeoutMs: SETTLE_TIMEOUT_MS },
      );
      assert.equal(await code(bob, "GET", cmPath(granted)), 200, "bob's grant is another binding");
    });
  });
});
