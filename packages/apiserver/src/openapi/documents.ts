/**
 * OpenAPI v3 documents generated from the resource registry and the schema description in
 * @coxswain/api: the index at `/openapi/v3` and one document per group-version
 * (`/openapi/v3/apis/apps/v1`), shaped like the ones kube-apiserver serves.
 *
 * What kubectl 1.32 reads from them (see README.md):
 * - the PATCH operation of a kind (found by `x-kubernetes-group-version-kind`) must list the
 *   `fieldValidation` query parameter, or kubectl validates client-side with OpenAPI v2, which
 *   Coxswain does not serve, and `kubectl apply` fails unless `--validate=false`;
 * - the same operation must accept `application/strategic-merge-patch+json`, and then the kind's
 *   component schema (found by its `x-kubernetes-group-version-kind` list) drives the three-way
 *   patch of `kubectl apply`: merge keys and strategies come from the
 *   `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` extensions on list fields, and a
 *   field missing from the schema makes kubectl fall back (with a warning) to its built-in types.
 */
import { createHash } from "node:crypto";
import {
  type ResourceDescriptor,
  type SchemaDefinition,
  type SchemaType,
  definitionNameOf,
  fieldPatchExtensions,
  referencedDefinitions,
  resources,
  schemaDefinitions,
  servedGroupVersions,
} from "@coxswain/api";
import { assert } from "@coxswain/raft";

export type JsonSchema = Record<string, unknown>;

export interface OpenApiOperation {
  tags: string[];
  description: string;
  operationId: string;
  parameters?: JsonSchema[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  "x-kubernetes-action": string;
  "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string };
}

export type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

export type OpenApiPathItem = { parameters?: JsonSchema[] } & { [M in HttpMethod]?: OpenApiOperation };

export interface OpenApiDocument {
  openapi: "3.0.0";
  info: { title: string; version: string };
  paths: Record<string, OpenApiPathItem>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
  security: Record<string, string[]>[];
}

/** The `/openapi/v3` index: one entry per group-version, each URL carrying its document's hash. */
export interface OpenApiIndex {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** The patch content types Coxswain applies; server-side apply (`application/apply-patch+yaml`) is not served. */
export const PATCH_CONTENT_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"] as const;

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** The index key and URL path of a group-version: `api/v1`, `apis/apps/v1`. */
export function groupVersionKey(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

// ---- component schemas --------------------------------------------------------------------------

/**
 * List-map keys where Kubernetes declares more than the merge key (`+listMapKey=containerPort
 * +listMapKey=protocol`). Only server-side apply reads them; client-side apply reads the merge key.
 */
const listMapKeysOverride: Readonly<Record<string, readonly string[]>> = {
  "io.k8s.api.core.v1.Container.ports": ["containerPort", "protocol"],
  "io.k8s.api.core.v1.EphemeralContainer.ports": ["containerPort", "protocol"],
  "io.k8s.api.core.v1.ServiceSpec.ports": ["port", "protocol"],
};

function fieldSchema(type: SchemaType): JsonSchema {
  switch (type.type) {
    case "string":
      return type.format === undefined ? { type: "string" } : { type: "string", format: type.format };
    case "integer":
      return { type: "integer", format: type.format };
    case "number":
      return { type: "number", format: type.format };
    case "boolean":
      return { type: "boolean" };
    case "ref":
      // Kubernetes wraps references in allOf (so a field can carry its own description and
      // extensions); kubectl's strategicpatch resolves allOf[0] then $ref.
      return { allOf: [ref(type.name)] };
    case "array":
      return { type: "array", items: fieldSchema(type.items) };
    case "map":
      return { type: "object", additionalProperties: fieldSchema(type.values) };
    case "free":
      return { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  }
}

/** The GVKs each definition is the schema of: the served kinds, their Lists, and subresource kinds (Scale). */
function kindsByDefinition(): Map<string, { group: string; version: string; kind: string }[]> {
  const out = new Map<string, { group: string; version: string; kind: string }[]>();
  const add = (gvk: { group: string; version: string; kind: string }): void => {
    const name = definitionNameOf(gvk);
    if (name === undefined || !schemaDefinitions.has(name)) return;
    const list = out.get(name) ?? [];
    if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) list.push(gvk);
    out.set(name, list);
  };
  for (const r of resources) {
    add({ group: r.group, version: r.version, kind: r.kind });
    add({ group: r.group, version: r.version, kind: r.listKind });
    for (const s of r.subresources) add({ group: s.group, version: s.version, kind: s.kind });
  }
  out.set(`${META}.Status`, [{ group: "", version: "v1", kind: "Status" }]);
  return out;
}

function componentSchema(def: SchemaDefinition, gvks: readonly { group: string; version: string; kind: string }[] | undefined): JsonSchema {
  const out: JsonSchema = {};
  if (def.description !== undefined) out["description"] = def.description;
  if (def.leaf !== undefined) {
    Object.assign(out, def.leaf);
  } else {
    out["type"] = "object";
    if (def.required !== undefined) out["required"] = [...def.required];
    const properties: Record<string, JsonSchema> = {};
    for (const [field, type] of Object.entries(def.properties ?? {})) {
      const schema = fieldSchema(type);
      const patch = fieldPatchExtensions(def.name, field);
      if (patch?.strategy !== undefined) schema["x-kubernetes-patch-strategy"] = patch.strategy;
      if (patch?.mergeKey !== undefined) schema["x-kubernetes-patch-merge-key"] = patch.mergeKey;
      if (type.type === "array" && patch?.strategy?.split(",").includes("merge")) {
        if (patch.mergeKey !== undefined) {
          schema["x-kubernetes-list-type"] = "map";
          schema["x-kubernetes-list-map-keys"] = [...(listMapKeysOverride[`${def.name}.${field}`] ?? [patch.mergeKey])];
        } else {
          schema["x-kubernetes-list-type"] = "set";
        }
      }
      properties[field] = schema;
    }
    out["properties"] = properties;
  }
  if (gvks !== undefined && gvks.length > 0) out["x-kubernetes-group-version-kind"] = gvks.map((g) => ({ ...g }));
  return out;
}

// ---- operations ---------------------------------------------------------------------------------

const queryParam = (name: string, type: "string" | "boolean" | "integer", description: string): JsonSchema => ({
  name,
  in: "query",
  description,
  schema: type === "integer" ? { type: "integer" } : { type, uniqueItems: true },
});

const params = {
  pretty: queryParam("pretty", "string", "If 'true', then the output is pretty printed."),
  dryRun: queryParam("dryRun", "string", "When present, indicates that modifications should not be persisted. The only valid value is All."),
  fieldManager: queryParam("fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes."),
  fieldValidation: queryParam(
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore (drop them silently), Warn (drop them and send a warning for each; the default), Strict (fail the request with a BadRequest error listing them).",
  ),
  force: queryParam("force", "boolean", 'Force is going to "force" Apply requests. Server-side apply is not served, so it has no effect.'),
  gracePeriodSeconds: queryParam("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."),
  orphanDependents: queryParam("orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy."),
  propagationPolicy: queryParam("propagationPolicy", "string", "Whether and how garbage collection will be performed: Orphan, Background or Foreground."),
  list: [
    queryParam("allowWatchBookmarks", "boolean", 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
    queryParam("continue", "string", "The continue option should be set when retrieving more results from the server."),
    queryParam("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields."),
    queryParam("labelSelector", "string", "A selector to restrict the list of returned objects by their labels."),
    queryParam("limit", "integer", "limit is a maximum number of responses to return for a list call."),
    queryParam("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."),
    queryParam("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
    queryParam("sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
    queryParam("timeoutSeconds", "integer", "Timeout for the list/watch call."),
    queryParam("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
  ],
  log: [
    queryParam("container", "string", "The container for which to stream logs."),
    queryParam("follow", "boolean", "Follow the log stream of the pod."),
    queryParam("insecureSkipTLSVerifyBackend", "boolean", "Skip verifying the serving certificate of the backend."),
    queryParam("limitBytes", "integer", "If set, the number of bytes to read from the server before terminating the log output."),
    queryParam("previous", "boolean", "Return previous terminated container logs."),
    queryParam("sinceSeconds", "integer", "A relative time in seconds before the current time from which to show logs."),
    queryParam("stream", "string", "Specify which container log stream to return to the client: All, Stdout or Stderr."),
    queryParam("tailLines", "integer", "If set, the number of lines from the end of the logs to show."),
    queryParam("timestamps", "boolean", "If true, add an RFC3339 timestamp at the beginning of every line of log output."),
  ],
  exec: [
    queryParam("command", "string", "Command is the remote command to execute. argv array."),
    queryParam("container", "string", "Container in which to execute the command."),
    queryParam("stderr", "boolean", "Redirect the standard error stream of the pod for this call."),
    queryParam("stdin", "boolean", "Redirect the standard input stream of the pod for this call."),
    queryParam("stdout", "boolean", "Redirect the standard output stream of the pod for this call."),
    queryParam("tty", "boolean", "TTY if true indicates that a tty will be allocated for the exec call."),
  ],
};

const pathParam = (name: string, description: string): JsonSchema => ({
  name,
  in: "path",
  description,
  required: true,
  schema: { type: "string", uniqueItems: true },
});
const namespaceParam = pathParam("namespace", "object name and auth scope, such as for teams and projects");

const json = (schema: JsonSchema): Record<string, { schema: JsonSchema }> => ({ "application/json": { schema } });

/** `apps` → `Apps`, `rbac.authorization.k8s.io` → `RbacAuthorization`, core → `Core` (Kubernetes' operation-id words). */
function groupWord(group: string): string {
  if (group === "") return "Core";
  return group
    .replace(/\.k8s\.io$/, "")
    .split(".")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

/** `core_v1`, `apps_v1`, `rbacAuthorization_v1`: Kubernetes' operation tags. */
function tagOf(group: string, version: string): string {
  const word = groupWord(group);
  return `${word.charAt(0).toLowerCase()}${word.slice(1)}_${version}`;
}

interface OperationSpec {
  action: string;
  verbWord: string;
  description: string;
  gvk?: { group: string; version: string; kind: string };
  parameters?: JsonSchema[];
  body?: "object" | "patch" | "deleteOptions";
  bodySchema?: JsonSchema;
  responses: Record<string, JsonSchema | undefined>;
}

class DocumentBuilder {
  readonly paths: Record<string, OpenApiPathItem> = {};
  readonly roots = new Set<string>([`${META}.Status`, `${META}.DeleteOptions`, `${META}.Patch`, `${META}.APIResourceList`]);

  constructor(
    private readonly group: string,
    private readonly version: string,
  ) {}

  private operationId(verbWord: string, r: ResourceDescriptor, suffix: string, scope: "namespaced" | "cluster" | "all"): string {
    const gv = `${groupWord(this.group)}${this.version.charAt(0).toUpperCase()}${this.version.slice(1)}`;
    if (scope === "all") return `${verbWord}${gv}${r.kind}${suffix}ForAllNamespaces`;
    const collection = verbWord === "deleteCollection" ? "Collection" : "";
    const verb = verbWord === "deleteCollection" ? "delete" : verbWord;
    return `${verb}${gv}${collection}${scope === "namespaced" ? "Namespaced" : ""}${r.kind}${suffix}`;
  }

  private add(
    path: string,
    method: HttpMethod,
    pathParams: JsonSchema[],
    op: OperationSpec,
    r: ResourceDescriptor,
    suffix: string,
    scope: "namespaced" | "cluster" | "all",
  ): void {
    const item = (this.paths[path] ??= { parameters: [...pathParams, params.pretty] });
    assert(item[method] === undefined, `openapi: ${method} ${path} defined twice`);
    const operation: OpenApiOperation = {
      tags: [tagOf(this.group, this.version)],
      description: op.description,
      operationId: this.operationId(op.verbWord, r, suffix, scope),
      responses: {},
      "x-kubernetes-action": op.action,
    };
    if (op.parameters !== undefined && op.parameters.length > 0) operation.parameters = op.parameters;
    if (op.body === "object" && op.bodySchema !== undefined) operation.requestBody = { required: true, content: json(op.bodySchema) };
    if (op.body === "patch") {
      const content: Record<string, { schema: JsonSchema }> = {};
      for (const type of PATCH_CONTENT_TYPES) content[type] = { schema: ref(`${META}.Patch`) };
      operation.requestBody = { required: true, content };
    }
    if (op.body === "deleteOptions") operation.requestBody = { content: json(ref(`${META}.DeleteOptions`)) };
    for (const [code, schema] of Object.entries(op.responses)) {
      const description = code === "200" ? "OK" : code === "201" ? "Created" : code === "202" ? "Accepted" : "Unauthorized";
      operation.responses[code] = schema === undefined ? { description } : { description, content: json(schema) };
    }
    operation.responses["401"] = { description: "Unauthorized" };
    if (op.gvk !== undefined) operation["x-kubernetes-group-version-kind"] = op.gvk;
    item[method] = operation;
  }

  addResource(r: ResourceDescriptor): void {
    const kindName = definitionNameOf(r);
    assert(kindName !== undefined, `openapi: no definition for ${r.apiVersion} ${r.kind}`);
    this.roots.add(kindName);
    this.roots.add(`${kindName}List`);
    const kind = ref(kindName);
    const list = ref(`${kindName}List`);
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const base = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    const scope = r.namespaced ? "namespaced" : "cluster";
    const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
    const item = `${collection}/{name}`;
    const collectionParams = r.namespaced ? [namespaceParam] : [];
    const itemParams = [pathParam("name", `name of the ${r.kind}`), ...collectionParams];
    const writeParams = [params.dryRun, params.fieldManager, params.fieldValidation];
    const has = (verb: string): boolean => (r.verbs as readonly string[]).includes(verb);

    if (has("list")) {
      this.add(
        collection,
        "get",
        collectionParams,
        { action: "list", verbWord: "list", description: `list or watch objects of kind ${r.kind}`, gvk, parameters: params.list, responses: { "200": list } },
        r,
        "",
        scope,
      );
      if (r.namespaced) {
        this.add(
          `${base}/${r.plural}`,
          "get",
          [],
          {
            action: "list",
            verbWord: "list",
            description: `list or watch objects of kind ${r.kind}`,
            gvk,
            parameters: params.list,
            responses: { "200": list },
          },
          r,
          "",
          "all",
        );
      }
    }
    if (has("create")) {
      this.add(
        collection,
        "post",
        collectionParams,
        {
          action: "post",
          verbWord: "create",
          description: `create a ${r.kind}`,
          gvk,
          parameters: writeParams,
          body: "object",
          bodySchema: kind,
          responses: { "200": kind, "201": kind, "202": kind },
        },
        r,
        "",
        scope,
      );
    }
    if (has("deletecollection")) {
      this.add(
        collection,
        "delete",
        collectionParams,
        {
          action: "deletecollection",
          verbWord: "deleteCollection",
          description: `delete collection of ${r.kind}`,
          gvk,
          parameters: [params.dryRun, params.gracePeriodSeconds, params.orphanDependents, params.propagationPolicy, ...params.list],
          body: "deleteOptions",
          responses: { "200": ref(`${META}.Status`) },
        },
        r,
        "",
        scope,
      );
    }
    if (has("get"))
      this.add(
        item,
        "get",
        itemParams,
        { action: "get", verbWord: "read", description: `read the specified ${r.kind}`, gvk, responses: { "200": kind } },
        r,
        "",
        scope,
      );
    if (has("update")) {
      this.add(
        item,
        "put",
        itemParams,
        {
          action: "put",
          verbWord: "replace",
          description: `replace the specified ${r.kind}`,
          gvk,
          parameters: writeParams,
          body: "object",
          bodySchema: kind,
          responses: { "200": kind, "201": kind },
        },
        r,
        "",
        scope,
      );
    }
    if (has("patch")) {
      this.add(
        item,
        "patch",
        itemParams,
        {
          action: "patch",
          verbWord: "patch",
          description: `partially update the specified ${r.kind}`,
          gvk,
          parameters: [...writeParams, params.force],
          body: "patch",
          responses: { "200": kind, "201": kind },
        },
        r,
        "",
        scope,
      );
    }
    if (has("delete")) {
      this.add(
        item,
        "delete",
        itemParams,
        {
          action: "delete",
          verbWord: "delete",
          description: `delete a ${r.kind}`,
          gvk,
          parameters: [params.dryRun, params.gracePeriodSeconds, params.orphanDependents, params.propagationPolicy],
          body: "deleteOptions",
          responses: { "200": ref(`${META}.Status`), "202": ref(`${META}.Status`) },
        },
        r,
        "",
        scope,
      );
    }

    for (const s of r.subresources) {
      const path = `${item}/${s.name}`;
      const suffix = s.name.charAt(0).toUpperCase() + s.name.slice(1);
      const subGvk = { group: s.group, version: s.version, kind: s.kind };
      const subName = definitionNameOf(subGvk);
      const verbs = s.verbs;
      if (s.name === "status" || s.name === "scale") {
        assert(subName !== undefined, `openapi: no definition for ${s.kind}`);
        this.roots.add(subName);
        const body = ref(subName);
        const what = `${s.name} of the specified ${r.kind}`;
        if (verbs.includes("get"))
          this.add(
            path,
            "get",
            itemParams,
            { action: "get", verbWord: "read", description: `read ${what}`, gvk: subGvk, responses: { "200": body } },
            r,
            suffix,
            scope,
          );
        if (verbs.includes("update"))
          this.add(
            path,
            "put",
            itemParams,
            {
              action: "put",
              verbWord: "replace",
              description: `replace ${what}`,
              gvk: subGvk,
              parameters: writeParams,
              body: "object",
              bodySchema: body,
              responses: { "200": body, "201": body },
            },
            r,
            suffix,
            scope,
          );
        if (verbs.includes("patch"))
          this.add(
            path,
            "patch",
            itemParams,
            {
              action: "patch",
              verbWord: "patch",
              description: `partially update ${what}`,
              gvk: subGvk,
              parameters: [...writeParams, params.force],
              body: "patch",
              responses: { "200": body, "201": body },
            },
            r,
            suffix,
            scope,
          );
      } else if (s.name === "binding") {
        assert(subName !== undefined, "openapi: no definition for Binding");
        this.roots.add(subName);
        this.add(
          path,
          "post",
          itemParams,
          {
            action: "post",
            verbWord: "create",
            description: `create binding of a ${r.kind}`,
            gvk: subGvk,
            parameters: writeParams,
            body: "object",
            bodySchema: ref(subName),
            responses: { "200": ref(subName), "201": ref(subName), "202": ref(subName) },
          },
          r,
          suffix,
          scope,
        );
      } else if (s.name === "log") {
        this.add(
          path,
          "get",
          itemParams,
          {
            action: "get",
            verbWord: "read",
            description: `read log of the specified ${r.kind}`,
            gvk: { group: r.group, version: r.version, kind: r.kind },
            parameters: params.log,
            responses: { "200": { type: "string" } },
          },
          r,
          suffix,
          scope,
        );
      } else if (s.name === "exec") {
        const connect = (method: HttpMethod): void =>
          this.add(
            path,
            method,
            itemParams,
            {
              action: "connect",
              verbWord: `connect${method === "get" ? "Get" : "Post"}`,
              description: `connect ${method.toUpperCase()} requests to exec of ${r.kind}`,
              gvk: { group: r.group, version: r.version, kind: "PodExecOptions" },
              parameters: params.exec,
              responses: { "200": { type: "string" } },
            },
            r,
            suffix,
            scope,
          );
        connect("get");
        connect("post");
      }
    }
  }

  addRoot(): void {
    const base = this.group === "" ? `/api/${this.version}/` : `/apis/${this.group}/${this.version}/`;
    this.paths[base] = {
      get: {
        tags: [tagOf(this.group, this.version)],
        description: "get available resources",
        operationId: `get${groupWord(this.group)}${this.version.charAt(0).toUpperCase()}${this.version.slice(1)}APIResources`,
        responses: { "200": { description: "OK", content: json(ref(`${META}.APIResourceList`)) }, "401": { description: "Unauthorized" } },
        "x-kubernetes-action": "get",
      },
    };
  }
}

export interface DocumentOptions {
  /** `info.version` of every document: the server's gitVersion (`v1.32.0`). */
  serverVersion?: string;
}

/** The OpenAPI v3 document of one served group-version; undefined for one not served. */
export function groupVersionDocument(group: string, version: string, options: DocumentOptions = {}): OpenApiDocument | undefined {
  const served = resources.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const builder = new DocumentBuilder(group, version);
  builder.addRoot();
  for (const r of served) builder.addResource(r);
  const gvks = kindsByDefinition();
  const schemas: Record<string, JsonSchema> = {};
  for (const name of referencedDefinitions(builder.roots)) {
    const def = schemaDefinitions.get(name);
    assert(def !== undefined, `openapi: ${name} vanished`);
    schemas[name] = componentSchema(def, gvks.get(name));
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: options.serverVersion ?? "unversioned" },
    paths: builder.paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: "apiKey", description: "Bearer Token authentication", name: "authorization", in: "header" } },
    },
    security: [{ BearerToken: [] }],
  };
}

/** Kubernetes' document hash: upper-case hex SHA-512 of the served JSON (kube-openapi handler3). */
export function documentHash(text: string): string {
  return createHash("sha512").update(text).digest("hex").toUpperCase();
}

export interface SerializedDocument {
  key: string;
  text: string;
  hash: string;
}

/**
 * The serialized documents of every served group-version and the index pointing at them, built
 * once: the registry is fixed for the process's life, so the hashes never change while it runs.
 */
export class OpenApiDocuments {
  private readonly byKey = new Map<string, SerializedDocument>();
  readonly index: SerializedDocument;

  constructor(options: DocumentOptions = {}) {
    const index: OpenApiIndex = { paths: {} };
    for (const { group, version } of servedGroupVersions()) {
      const doc = groupVersionDocument(group, version, options);
      assert(doc !== undefined, `openapi: ${group}/${version} is served but has no resources`);
      const key = groupVersionKey(group, version);
      const text = JSON.stringify(doc);
      const hash = documentHash(text);
      this.byKey.set(key, { key, text, hash });
      index.paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
    const text = JSON.stringify(index);
    this.index = { key: "", text, hash: documentHash(text) };
  }

  /** The document at `/openapi/v3/<key>` (`apis/apps/v1`). */
  document(key: string): SerializedDocument | undefined {
    return this.byKey.get(key);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }
}
