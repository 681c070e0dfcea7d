import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { definitionNameOf, resources, servedGroupVersions } from "@coxswain/api";
import {
  type JsonSchema,
  OpenApiDocuments,
  type OpenApiDocument,
  type OpenApiIndex,
  documentHash,
  groupVersionDocument,
  groupVersionKey,
} from "./documents.js";
import { OpenApiRoutes, openApiRoutes } from "./routes.js";

const documents = new OpenApiDocuments({ serverVersion: "v1.32.0" });

function docOf(group: string, version: string): OpenApiDocument {
  const doc = documents.document(groupVersionKey(group, version));
  assert.ok(doc, `no document for ${group}/${version}`);
  return JSON.parse(doc.text) as OpenApiDocument;
}

type Gvk = { group: string; version: string; kind: string };
const sameGvk = (a: unknown, b: Gvk): boolean => {
  const g = a as Partial<Gvk> | undefined;
  return g?.group === b.group && g.version === b.version && g.kind === b.kind;
};

/**
 * cli-runtime's queryParamVerifierV3.HasSupport, transcribed: the first PATCH operation carrying
 * the kind's GVK decides, by listing the parameter or not.
 */
function kubectlVerifierSupports(doc: OpenApiDocument, gvk: Gvk, param: string): boolean {
  for (const item of Object.values(doc.paths)) {
    const op = item.patch;
    if (op === undefined || !sameGvk(op["x-kubernetes-group-version-kind"], gvk)) continue;
    return (op.parameters ?? []).some((p) => p["name"] === param);
  }
  return false;
}

/** kubectl apply's gvkSupportsPatchOpenAPIV3: the kind's PATCH accepts strategic merge patches. */
function kubectlPatchUsesV3(doc: OpenApiDocument, gvk: Gvk): boolean {
  for (const item of Object.values(doc.paths)) {
    const op = item.patch;
    if (op === undefined || !sameGvk(op["x-kubernetes-group-version-kind"], gvk)) continue;
    return op.requestBody?.content["application/strategic-merge-patch+json"] !== undefined;
  }
  return false;
}

/** strategicpatch.PatchMetaFromOpenAPIV3, transcribed: the component for a GVK, then traverse + resolve. */
class PatchMetaV3 {
  constructor(
    private readonly schemas: Record<string, JsonSchema>,
    readonly schema: JsonSchema,
  ) {}

  static forKind(doc: OpenApiDocument, gvk: Gvk): PatchMetaV3 {
    const entry = Object.values(doc.components.schemas).find((s) =>
      ((s["x-kubernetes-group-version-kind"] as unknown[] | undefined) ?? []).some((g) => sameGvk(g, gvk)),
    );
    assert.ok(entry, `no component with GVK ${JSON.stringify(gvk)}`);
    return new PatchMetaV3(doc.components.schemas, entry);
  }

  private resolve(schema: JsonSchema): JsonSchema {
    let s = schema;
    const allOf = s["allOf"] as JsonSchema[] | undefined;
    if (allOf !== undefined && allOf.length > 0 && allOf[0] !== undefined) s = allOf[0];
    const ref = s["$ref"] as string | undefined;
    if (ref !== undefined) {
      const target = this.schemas[ref.replace("#/components/schemas/", "")];
      assert.ok(target, `unable to resolve ${ref} in OpenAPI V3`);
      s = target;
    }
    return s;
  }

  /** LookupPatchMetadataForStruct / ForSlice: the field's extensions, and the schema to go on with. */
  lookup(key: string, slice: boolean): { meta: { strategy?: string; mergeKey?: string }; next: PatchMetaV3 } {
    const properties = this.schema["properties"] as Record<string, JsonSchema> | undefined;
    const field = properties?.[key];
    assert.ok(field, `unable to find api field "${key}"`);
    const meta = {
      strategy: field["x-kubernetes-patch-strategy"] as string | undefined,
      mergeKey: field["x-kubernetes-patch-merge-key"] as string | undefined,
    };
    const inner = slice && field["items"] !== undefined ? (field["items"] as JsonSchema) : field;
    return { meta, next: new PatchMetaV3(this.schemas, this.resolve(inner)) };
  }
}

describe("OpenAPI v3 documents", () => {
  it("lists every served group-version in the index, each URL carrying its document's hash", () => {
    const index = JSON.parse(documents.index.text) as OpenApiIndex;
    const keys = servedGroupVersions().map((gv) => groupVersionKey(gv.group, gv.version));
    assert.deepEqual(Object.keys(index.paths).sort(), [...keys].sort());
    for (const key of keys) {
      const doc = documents.document(key);
      assert.ok(doc);
      assert.equal(index.paths[key]?.serverRelativeURL, `/openapi/v3/${key}?hash=${documentHash(doc.text)}`);
    }
    assert.match(index.paths["apis/apps/v1"]?.serverRelativeURL ?? "", /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  });

  it("gives every kind a component schema tagged with its group-version-kind, and its List too", () => {
    for (const r of resources) {
      const doc = docOf(r.group, r.version);
      const name = definitionNameOf(r) ?? "";
      for (const [def, kind] of [
        [name, r.kind],
        [`${name}List`, r.listKind],
      ] as const) {
        const schema = doc.components.schemas[def];
        assert.ok(schema, `${r.apiVersion}: no component ${def}`);
        assert.ok(
          ((schema["x-kubernetes-group-version-kind"] as unknown[]) ?? []).some((g) => sameGvk(g, { group: r.group, version: r.version, kind })),
          `${def} lacks its GVK`,
        );
      }
    }
  });

  it("gives every verb of every resource an operation with its action and group-version-kind", () => {
    const actions: Record<string, [string, string]> = {
      list: ["collection", "get"],
      create: ["collection", "post"],
      deletecollection: ["collection", "delete"],
      get: ["item", "get"],
      update: ["item", "put"],
      patch: ["item", "patch"],
      delete: ["item", "delete"],
    };
    for (const r of resources) {
      const doc = docOf(r.group, r.version);
      const base = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
      for (const verb of r.verbs) {
        if (verb === "watch") continue;
        const [where, method] = actions[verb] ?? ["", ""];
        const path = where === "collection" ? collection : `${collection}/{name}`;
        const op = doc.paths[path]?.[method as "get"];
        assert.ok(op, `${r.apiVersion} ${r.plural}: no ${method} ${path}`);
        assert.equal(op["x-kubernetes-action"], verb === "create" ? "post" : verb === "update" ? "put" : verb);
        assert.ok(sameGvk(op["x-kubernetes-group-version-kind"], { group: r.group, version: r.version, kind: r.kind }), `${method} ${path} has the wrong GVK`);
      }
      for (const s of r.subresources) {
        assert.ok(doc.paths[`${collection}/{name}/${s.name}`], `${r.apiVersion} ${r.plural}: no ${s.name} subresource path`);
      }
    }
  });

  it("resolves every $ref of a document inside the same document", () => {
    for (const key of documents.keys()) {
      const doc = documents.document(key);
      assert.ok(doc);
      const parsed = JSON.parse(doc.text) as OpenApiDocument;
      for (const match of doc.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
        assert.ok(parsed.components.schemas[match[1] ?? ""], `${key}: dangling reference to ${match[1]}`);
      }
    }
  });

  it("declares fieldValidation on the PATCH of every patchable kind, as kubectl's query-param verifier looks for it", () => {
    for (const r of resources) {
      if (!r.verbs.includes("patch")) continue;
      const doc = docOf(r.group, r.version);
      const gvk = { group: r.group, version: r.version, kind: r.kind };
      assert.ok(kubectlVerifierSupports(doc, gvk, "fieldValidation"), `kubectl would validate ${r.apiVersion} ${r.kind} client-side`);
      assert.ok(kubectlPatchUsesV3(doc, gvk), `kubectl would not compute ${r.kind} patches from the v3 schema`);
    }
    const scale = docOf("apps", "v1");
    assert.ok(kubectlVerifierSupports(scale, { group: "autoscaling", version: "v1", kind: "Scale" }, "fieldValidation"));
  });

  it("puts fieldValidation, dryRun and fieldManager on create and update too", () => {
    const item = docOf("apps", "v1").paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    const collection = docOf("apps", "v1").paths["/apis/apps/v1/namespaces/{namespace}/deployments"];
    for (const op of [item?.put, item?.patch, collection?.post]) {
      const names = (op?.parameters ?? []).map((p) => p["name"]);
      for (const want of ["fieldValidation", "dryRun", "fieldManager"]) assert.ok(names.includes(want), `${op?.operationId} lacks ${want}`);
    }
    assert.equal(item?.patch?.operationId, "patchAppsV1NamespacedDeployment");
    assert.deepEqual(Object.keys(item?.patch?.requestBody?.content ?? {}), [
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/strategic-merge-patch+json",
    ]);
  });

  it("leads kubectl's patch computation to the merge keys of containers, env, ports and volumes", () => {
    const root = PatchMetaV3.forKind(docOf("apps", "v1"), { group: "apps", version: "v1", kind: "Deployment" });
    const podSpec = root.lookup("spec", false).next.lookup("template", false).next.lookup("spec", false).next;
    const containers = podSpec.lookup("containers", true);
    assert.deepEqual(containers.meta, { strategy: "merge", mergeKey: "name" });
    assert.deepEqual(containers.next.lookup("env", true).meta, { strategy: "merge", mergeKey: "name" });
    assert.deepEqual(containers.next.lookup("ports", true).meta, { strategy: "merge", mergeKey: "containerPort" });
    assert.deepEqual(podSpec.lookup("volumes", true).meta, { strategy: "merge,retainKeys", mergeKey: "name" });
    assert.deepEqual(podSpec.lookup("tolerations", true).meta, { strategy: undefined, mergeKey: undefined });
    assert.deepEqual(root.lookup("metadata", false).next.lookup("finalizers", true).meta, { strategy: "merge", mergeKey: undefined });
    assert.deepEqual(root.lookup("spec", false).next.lookup("strategy", false).meta, { strategy: "retainKeys", mergeKey: undefined });
    const service = PatchMetaV3.forKind(docOf("", "v1"), { group: "", version: "v1", kind: "Service" });
    assert.deepEqual(service.lookup("spec", false).next.lookup("ports", true).meta, { strategy: "merge", mergeKey: "port" });
  });

  it("marks merge-keyed lists as list-type map for server-side-apply-aware clients", () => {
    const schemas = docOf("", "v1").components.schemas;
    const containerPorts = (schemas["io.k8s.api.core.v1.Container"]?.["properties"] as Record<string, JsonSchema>)["ports"];
    assert.equal(containerPorts?.["x-kubernetes-list-type"], "map");
    assert.deepEqual(containerPorts?.["x-kubernetes-list-map-keys"], ["containerPort", "protocol"]);
    const finalizers = (schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]?.["properties"] as Record<string, JsonSchema>)["finalizers"];
    assert.equal(finalizers?.["x-kubernetes-list-type"], "set");
  });

  it("serves autoscaling/v1 and v2 HorizontalPodAutoscalers with their own schemas", () => {
    const v1 = docOf("autoscaling", "v1").components.schemas["io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec"]?.["properties"] as Record<
      string,
      unknown
    >;
    const v2 = docOf("autoscaling", "v2").components.schemas["io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec"]?.["properties"] as Record<
      string,
      unknown
    >;
    assert.ok("targetCPUUtilizationPercentage" in v1 && !("metrics" in v1));
    assert.ok("metrics" in v2 && !("targetCPUUtilizationPercentage" in v2));
  });

  it("has no document for a group-version that is not served", () => {
    assert.equal(groupVersionDocument("extensions", "v1beta1"), undefined);
    assert.equal(documents.document("apis/extensions/v1beta1"), undefined);
  });
});

describe("OpenAPI routes", () => {
  const routes = new OpenApiRoutes({ serverVersion: "v1.32.0" });
  const index = JSON.parse(documents.index.text) as OpenApiIndex;
  const appsUrl = new URL(index.paths["apis/apps/v1"]?.serverRelativeURL ?? "", "https://x");

  it("serves the index with an ETag and answers 304 when the client has it", () => {
    const first = routes.respond({ path: "/openapi/v3", query: new URLSearchParams() });
    assert.equal(first?.status, 200);
    assert.equal(first?.headers["content-type"], "application/json");
    const etag = first?.headers["etag"] ?? "";
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    assert.equal(routes.respond({ path: "/openapi/v3/", query: new URLSearchParams(), ifNoneMatch: etag })?.status, 304);
  });

  it("serves a document at its hashed URL as immutable for a year", () => {
    const nowMs = Date.UTC(2025, 0, 1);
    const response = routes.respond({ path: appsUrl.pathname, query: appsUrl.searchParams, accept: "application/json", nowMs });
    assert.equal(response?.status, 200);
    assert.equal(response?.headers["cache-control"], "public, immutable");
    assert.equal(response?.headers["expires"], new Date(nowMs + 365 * 24 * 3600 * 1000).toUTCString());
    assert.equal(response?.headers["vary"], "Accept");
    assert.equal((JSON.parse(response?.body ?? "{}") as OpenApiDocument).openapi, "3.0.0");
  });

  it("redirects a stale hash to the current document, as kube-openapi does", () => {
    const response = routes.respond({ path: appsUrl.pathname, query: new URLSearchParams({ hash: "0BSOLETE" }) });
    assert.equal(response?.status, 301);
    assert.equal(response?.headers["location"], `${appsUrl.pathname}${appsUrl.search}`);
  });

  it("serves a document without a hash but without cache headers", () => {
    const response = routes.respond({ path: appsUrl.pathname, query: new URLSearchParams() });
    assert.equal(response?.status, 200);
    assert.equal(response?.headers["cache-control"], undefined);
  });

  it("refuses a client that only takes protobuf with 406", () => {
    assert.equal(
      routes.respond({ path: appsUrl.pathname, query: new URLSearchParams(), accept: "application/com.github.proto-openapi.spec.v3@v1.0+protobuf" })?.status,
      406,
    );
  });

  it("answers 404 for an unknown group-version and leaves other paths alone", async () => {
    assert.throws(
      () => routes.respond({ path: "/openapi/v3/apis/nope/v1", query: new URLSearchParams() }),
      (err: Error & { code?: number }) => err.code === 404,
    );
    assert.equal(routes.respond({ path: "/openapi/v2", query: new URLSearchParams() }), undefined);
    assert.equal(openApiRoutes("/version", new URLSearchParams()), undefined);
    await assert.rejects(
      openApiRoutes("/openapi/v3/apis/nope/v1", new URLSearchParams()) ?? Promise.resolve(),
      (err: Error & { code?: number }) => err.code === 404,
    );
  });

  it("gives the front end's nonResourceRoutes the parsed index and documents", async () => {
    const body = (await openApiRoutes("/openapi/v3", new URLSearchParams())) as OpenApiIndex;
    assert.ok(body.paths["api/v1"]);
    const doc = (await openApiRoutes(appsUrl.pathname, appsUrl.searchParams)) as OpenApiDocument;
    assert.ok(doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]);
    const stale = (await openApiRoutes(appsUrl.pathname, new URLSearchParams({ hash: "0BSOLETE" }))) as OpenApiDocument;
    assert.equal(stale.openapi, "3.0.0");
  });
});
