/**
 * The REST verbs on one resource, with Kubernetes' semantics: create, get, list, watch, update,
 * patch, delete, deletecollection, and the status, scale and binding subresources. Defaulting,
 * validation and printing come from the resource's descriptor (@coxswain/api); persistence from
 * ObjectStorage; admission from the chain. Everything here is independent of HTTP: it takes a
 * parsed request and returns a body (or a watch stream) and a status code.
 */
import { randomInt, randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import {
  ApiStatusError,
  FieldSelectorParseError,
  FieldSelectorUnsupportedError,
  type KubeObject,
  LabelSelectorParseError,
  PatchError,
  type ResourceDescriptor,
  applyPatch,
  applyScale,
  fieldErrors,
  findResource,
  findResourceByKind,
  generateNameFromPrefix,
  invalidObjectError,
  parseFieldSelector,
  parseLabelSelector,
  patchTypeOf,
  scaleOf,
  statusBadRequest,
  statusMethodNotSupported,
  statusNotFound,
  statusSuccess,
  statusUnsupportedMediaType,
  statusConflict,
} from "@coxswain/api";
import { checkBodyFields, checkPatchedFields, fieldValidationDirective } from "../openapi/strict.js";
import { decodeProtobufRequestBody } from "../protobuf/decode.js";
import type { Admission, ObjectStorage, UserInfo, WatchStream } from "./ports.js";
import type { ResourceRequestInfo } from "./request-info.js";

export interface RestRequest {
  info: ResourceRequestInfo;
  query: URLSearchParams;
  contentType: string;
  body: Buffer;
  user: UserInfo;
  /** Collects `Warning` header texts (e.g. unknown fields under fieldValidation=Warn). */
  warnings?: string[];
}

export type RestResponse =
  | { kind: "object"; status: number; body: KubeObject | Record<string, unknown>; warnings?: string[] }
  | { kind: "watch"; stream: WatchStream; resource: ResourceDescriptor };

export interface ResourceHandlerOptions {
  storage: ObjectStorage;
  admission: Admission;
  nowMs?: () => number;
}

type JsonObject = Record<string, unknown>;

const LIST_LIMIT_MAX = 10_000;
const JSON_MEDIA_TYPES = [
  "application/json",
  "application/yaml",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/json-patch+json",
];

function badRequest(message: string): ApiStatusError {
  return new ApiStatusError(statusBadRequest(message));
}

function qr(r: ResourceDescriptor): { group: string; resource: string } {
  return { group: r.group, resource: r.plural };
}

function isoNow(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export class ResourceHandler {
  private readonly storage: ObjectStorage;
  private readonly admission: Admission;
  private readonly nowMs: () => number;

  constructor(options: ResourceHandlerOptions) {
    this.storage = options.storage;
    this.admission = options.admission;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** The Table printer of a kind, for Table responses. */
  printerFor(apiVersion: string, kind: string): ResourceDescriptor["printer"] | undefined {
    return findResourceByKind(apiVersion, kind)?.printer;
  }

  /** The descriptor for a request, or a 404 like Kubernetes' for an unknown resource. */
  resolve(info: ResourceRequestInfo): ResourceDescriptor {
    const r = findResource(info.apiGroup, info.apiVersion, info.resource);
    if (r === undefined) {
      throw new ApiStatusError({
        ...statusNotFound({ group: info.apiGroup, resource: info.resource }, info.name),
        message: "the server could not find the requested resource",
        details: {},
      });
    }
    if (
      r.namespaced !== (info.namespace !== "") &&
      !(info.namespace === "" && (info.verb === "list" || info.verb === "watch" || info.verb === "deletecollection"))
    ) {
      if (!(r.plural === "namespaces"))
        throw new ApiStatusError({ ...statusNotFound(qr(r), info.name), message: "the server could not find the requested resource", details: {} });
    }
    if (info.subresource !== "" && !r.subresources.some((s) => s.name === info.subresource)) {
      throw new ApiStatusError({ ...statusNotFound(qr(r), info.name), message: "the server could not find the requested resource", details: {} });
    }
    return r;
  }

  async handle(req: RestRequest): Promise<RestResponse> {
    const r = this.resolve(req.info);
    const { verb, subresource } = req.info;
    const verbAllowed = subresource !== "" || r.verbs.includes(verb as never);
    if (!verbAllowed) throw new ApiStatusError(statusMethodNotSupported(qr(r), verb));
    if (subresource === "scale") return this.scale(r, req);
    if (subresource === "binding") return this.bind(r, req);
    if (subresource === "log" || subresource === "exec" || subresource === "attach" || subresource === "portforward") {
      throw new ApiStatusError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        code: 503,
        reason: "ServiceUnavailable",
        message: `pods/${subresource} is served by the node agent, which this cluster does not run yet`,
      });
    }
    switch (verb) {
      case "create":
        return this.create(r, req);
      case "get":
        return { kind: "object", status: 200, body: r.fromStorageVersion(await this.storage.get(r, req.info.namespace, req.info.name)) };
      case "list":
        return this.list(r, req);
      case "watch":
        return this.watch(r, req);
      case "update":
        return this.update(r, req);
      case "patch":
        return this.patch(r, req);
      case "delete":
        return this.delete(r, req);
      case "deletecollection":
        return this.deleteCollection(r, req);
      default:
        throw new ApiStatusError(statusMethodNotSupported(qr(r), verb));
    }
  }

  // ---- decoding ------------------------------------------------------------------------------

  private decodeBody(req: RestRequest): JsonObject {
    const mediaType = req.contentType.split(";")[0]!.trim().toLowerCase();
    // kubectl's imperative commands send Kubernetes protobuf; decoded to the same JSON shape (../protobuf).
    if (mediaType === "application/vnd.kubernetes.protobuf") return decodeProtobufRequestBody(req.body);
    if (mediaType !== "" && !JSON_MEDIA_TYPES.includes(mediaType)) throw new ApiStatusError(statusUnsupportedMediaType(req.contentType, ["application/json"]));
    let parsed: unknown;
    if (mediaType === "application/yaml") {
      // Kubernetes converts a YAML body to JSON, then decodes that (duplicate keys are an error).
      try {
        parsed = parseYaml(req.body.toString("utf8"), { uniqueKeys: true });
      } catch (err) {
        throw badRequest(`the request body could not be decoded: error converting YAML to JSON: ${(err as Error).message}`);
      }
    } else {
      try {
        parsed = JSON.parse(req.body.toString("utf8"));
      } catch (err) {
        throw badRequest(`the request body could not be decoded: json parse error: ${(err as Error).message}`);
      }
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw badRequest("the request body must be a JSON object");
    return parsed as JsonObject;
  }

  /** Checks apiVersion/kind/namespace of a body against the request, as Kubernetes does. */
  private decodeObject(r: ResourceDescriptor, req: RestRequest, expectKind = r.kind, expectApiVersion = r.apiVersion): KubeObject {
    const body = this.decodeBody(req);
    // ?fieldValidation=Strict|Warn|Ignore: unknown and duplicate fields, as Kubernetes' decoder.
    const directive = fieldValidationDirective(req.query, req.info.verb === "create" ? "CreateOptions" : "UpdateOptions");
    // The strict checks read JSON text; a YAML body is checked as the JSON it was converted to.
    const isYaml = req.contentType.split(";")[0]!.trim().toLowerCase() === "application/yaml";
    const bodyText = isYaml ? JSON.stringify(body) : req.body.toString("utf8");
    const outcome = checkBodyFields({ resource: r, subresource: req.info.subresource, directive, bodyText, object: body });
    req.warnings?.push(...outcome.warnings);
    const apiVersion = typeof body["apiVersion"] === "string" ? body["apiVersion"] : "";
    const kind = typeof body["kind"] === "string" ? body["kind"] : "";
    if (apiVersion === "" && kind === "") {
      body["apiVersion"] = expectApiVersion;
      body["kind"] = expectKind;
    } else if (kind !== expectKind || apiVersion !== expectApiVersion) {
      throw badRequest(
        `the API version in the data (${apiVersion}) does not match the expected API version (${expectApiVersion})`.replace(
          `(${apiVersion})`,
          `(${apiVersion}${kind !== expectKind ? `, kind ${kind}` : ""})`,
        ),
      );
    }
    const metadata = (body["metadata"] ?? {}) as JsonObject;
    if (typeof metadata !== "object" || Array.isArray(metadata)) throw badRequest("metadata must be an object");
    body["metadata"] = metadata;
    if (r.namespaced && expectKind === r.kind) {
      const ns = metadata["namespace"];
      if (ns !== undefined && ns !== "" && ns !== req.info.namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      metadata["namespace"] = req.info.namespace;
    }
    return body as unknown as KubeObject;
  }

  private dryRun(req: RestRequest): boolean {
    const values = req.query.getAll("dryRun");
    for (const v of values) if (v !== "All") throw badRequest(`Invalid dry run value: ${v}`);
    return values.length > 0;
  }

  // ---- verbs ---------------------------------------------------------------------------------

  private async create(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const body = this.decodeObject(r, req);
    const obj = r.toStorageVersion(body);
    const meta = obj.metadata;
    if (!meta.name) {
      if (meta.generateName) meta.name = generateNameFromPrefix(meta.generateName, randomInt);
      else throw invalidObjectError(r, "", [fieldErrors.required("metadata.name", "name or generateName is required")]);
    }
    if (req.info.name !== "" && req.info.name !== meta.name) throw badRequest("the name of the object does not match the name on the URL");
    r.applyDefaults(obj);
    meta.uid = randomUUID();
    meta.creationTimestamp = isoNow(this.nowMs());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    r.prepareForCreate(obj);
    const errors = r.validate(obj);
    if (errors.length > 0) throw invalidObjectError(r, meta.name, errors);
    await this.admission.admit({
      operation: "CREATE",
      resource: r,
      subresource: "",
      namespace: req.info.namespace,
      name: meta.name,
      object: obj,
      oldObject: null,
      user: req.user,
    });
    if (this.dryRun(req)) return { kind: "object", status: 201, body: r.fromStorageVersion(obj) };
    const stored = await this.storage.create(r, obj);
    return { kind: "object", status: 201, body: r.fromStorageVersion(stored) };
  }

  private listOptions(
    r: ResourceDescriptor,
    req: RestRequest,
  ): { labels: ReturnType<typeof parseLabelSelector>; fields: ReturnType<typeof parseFieldSelector> } {
    try {
      const labels = parseLabelSelector(req.query.get("labelSelector") ?? "");
      const fields = parseFieldSelector(req.query.get("fieldSelector") ?? "");
      fields.checkSupported(r.fieldSelectors);
      return { labels, fields };
    } catch (err) {
      if (err instanceof LabelSelectorParseError || err instanceof FieldSelectorParseError || err instanceof FieldSelectorUnsupportedError) {
        throw badRequest(err.message);
      }
      throw err;
    }
  }

  private async list(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const { labels, fields } = this.listOptions(r, req);
    const limitText = req.query.get("limit") ?? "";
    const limit = limitText === "" ? 0 : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 0) throw badRequest(`invalid limit ${JSON.stringify(limitText)}`);
    const result = await this.storage.list(r, {
      namespace: req.info.namespace,
      labelSelector: labels,
      fieldSelector: fields,
      limit: Math.min(limit, LIST_LIMIT_MAX),
      continueToken: req.query.get("continue") ?? "",
      resourceVersion: req.query.get("resourceVersion") ?? "",
      // Exact reads go to the store at that revision (410 once compacted); dropping it would
      // silently answer with the current state instead.
      resourceVersionMatch: req.query.get("resourceVersionMatch") ?? "",
    });
    const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continueToken !== "") metadata["continue"] = result.continueToken;
    if (result.remainingItemCount !== undefined) metadata["remainingItemCount"] = result.remainingItemCount;
    return {
      kind: "object",
      status: 200,
      body: { kind: r.listKind, apiVersion: r.apiVersion, metadata, items: result.items.map((o) => r.fromStorageVersion(o)) },
    };
  }

  private async watch(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const { labels, fields } = this.listOptions(r, req);
    let fieldSelector = fields;
    if (req.info.name !== "") fieldSelector = parseFieldSelector(`metadata.name=${req.info.name}${fields.isEmpty() ? "" : `,${fields.toString()}`}`);
    const stream = await this.storage.watch(r, {
      namespace: req.info.namespace,
      labelSelector: labels,
      fieldSelector,
      resourceVersion: req.query.get("resourceVersion") ?? "",
      allowBookmarks: req.query.get("allowWatchBookmarks") === "true",
    });
    return { kind: "watch", stream, resource: r };
  }

  /**
   * The update path shared by PUT, PATCH and subresources: `produce` turns the current stored
   * object into the desired one (in the storage version); then defaults, strategy, validation and
   * admission; a stale resourceVersion in the result is a 409.
   */
  private async updateWith(r: ResourceDescriptor, req: RestRequest, produce: (current: KubeObject) => KubeObject): Promise<RestResponse> {
    const { namespace, name, subresource } = req.info;
    const dryRun = this.dryRun(req);
    let dryRunResult: KubeObject | null = null;
    const stored = await this.storage
      .update(r, namespace, name, async (current) => {
        const desired = produce(current);
        const rv = desired.metadata.resourceVersion;
        if (rv !== undefined && rv !== "" && rv !== current.metadata.resourceVersion) {
          throw new ApiStatusError(statusConflict({ group: r.group, resource: r.plural }, name));
        }
        // Identity fields come from the stored object.
        desired.metadata.uid ??= current.metadata.uid;
        if (desired.metadata.uid !== current.metadata.uid) {
          throw new ApiStatusError(
            statusConflict(qr(r), name, `Precondition failed: UID in precondition: ${desired.metadata.uid}, UID in object meta: ${current.metadata.uid}`),
          );
        }
        desired.metadata.name = current.metadata.name;
        if (r.namespaced) desired.metadata.namespace = current.metadata.namespace;
        desired.metadata.creationTimestamp = current.metadata.creationTimestamp;
        if (current.metadata.deletionTimestamp !== undefined) {
          desired.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
          if (current.metadata.deletionGracePeriodSeconds !== undefined)
            desired.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
        }
        let obj: KubeObject;
        if (subresource === "status") {
          obj = r.prepareForStatusUpdate(desired, current);
        } else {
          obj = desired;
          r.applyDefaults(obj);
          r.prepareForUpdate(obj, current);
        }
        const errors = r.validateUpdate(obj, current);
        if (errors.length > 0) throw invalidObjectError(r, name, errors);
        await this.admission.admit({ operation: "UPDATE", resource: r, subresource, namespace, name, object: obj, oldObject: current, user: req.user });
        if (dryRun) {
          dryRunResult = obj;
          throw new DryRunDone();
        }
        return obj;
      })
      .catch((err: unknown) => {
        if (err instanceof DryRunDone && dryRunResult !== null) return dryRunResult;
        throw err;
      });
    // An object being deleted whose last finalizer went away is deleted now (Kubernetes does this
    // in the update path).
    if (!dryRun && stored.metadata.deletionTimestamp !== undefined && (stored.metadata.finalizers ?? []).length === 0 && !needsAgentToFinish(r, stored)) {
      const deleted = await this.storage.delete(r, namespace, name, { uid: stored.metadata.uid ?? "" }).catch((err: unknown) => {
        if (err instanceof ApiStatusError && err.code === 404) return stored;
        throw err;
      });
      return { kind: "object", status: 200, body: r.fromStorageVersion(deleted) };
    }
    return { kind: "object", status: 200, body: r.fromStorageVersion(stored) };
  }

  private async update(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const body = this.decodeObject(r, req);
    if (body.metadata.name !== undefined && body.metadata.name !== req.info.name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${req.info.name})`);
    }
    // No resourceVersion: an unconditional update (last writer wins), which every kind served
    // here allows in Kubernetes (AllowUnconditionalUpdate() is true for all of their strategies).
    return this.updateWith(r, req, (current) => r.toStorageVersion(structuredClone(body), current));
  }

  private async patch(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const type = patchTypeOf(req.contentType);
    if (type === undefined) {
      throw new ApiStatusError(
        statusUnsupportedMediaType(req.contentType, ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]),
      );
    }
    const directive = fieldValidationDirective(req.query, "PatchOptions");
    let patch: unknown;
    try {
      patch = JSON.parse(req.body.toString("utf8"));
    } catch (err) {
      throw badRequest(`the request body could not be decoded: json parse error: ${(err as Error).message}`);
    }
    return this.updateWith(r, req, (current) => {
      const served = r.fromStorageVersion(structuredClone(current));
      // The patch's own resourceVersion (if any) is the precondition; otherwise none.
      const { resourceVersion: _rv, ...metaWithoutRv } = served.metadata;
      void _rv;
      const base = { ...served, metadata: metaWithoutRv };
      let patched: KubeObject;
      try {
        patched = applyPatch(type, base as never, patch as never, r.patchSchema) as unknown as KubeObject;
      } catch (err) {
        if (err instanceof PatchError) {
          throw new ApiStatusError({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            code: err.statusCode,
            reason: err.statusCode === 422 ? "Invalid" : "BadRequest",
            message: err.message,
          });
        }
        throw err;
      }
      if (patched.kind !== r.kind || patched.apiVersion !== r.apiVersion) throw badRequest("a patch may not change apiVersion or kind");
      patched.metadata ??= {};
      const outcome = checkPatchedFields({
        resource: r,
        subresource: req.info.subresource,
        directive,
        patchType: type === "apply" ? "merge" : type,
        patchText: req.body.toString("utf8"),
        current: base,
        patched,
      });
      req.warnings?.push(...outcome.warnings);
      return r.toStorageVersion(patched, current);
    });
  }

  private deleteOptions(req: RestRequest): {
    propagationPolicy: string;
    gracePeriodSeconds: number | undefined;
    preconditions: { uid?: string; resourceVersion?: string };
  } {
    let body: JsonObject = {};
    if (req.body.byteLength > 0) {
      try {
        body = JSON.parse(req.body.toString("utf8")) as JsonObject;
      } catch (err) {
        throw badRequest(`the request body could not be decoded: json parse error: ${(err as Error).message}`);
      }
    }
    const policy = (req.query.get("propagationPolicy") ?? (body["propagationPolicy"] as string | undefined) ?? "").toString();
    if (policy !== "" && policy !== "Orphan" && policy !== "Background" && policy !== "Foreground") {
      throw invalidObjectError({ group: "meta.k8s.io", kind: "DeleteOptions" } as ResourceDescriptor, "", [
        fieldErrors.notSupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"]),
      ]);
    }
    const graceText = req.query.get("gracePeriodSeconds");
    const grace = graceText !== null ? Number(graceText) : (body["gracePeriodSeconds"] as number | undefined);
    const pre = (body["preconditions"] ?? {}) as { uid?: string; resourceVersion?: string };
    return { propagationPolicy: policy, gracePeriodSeconds: grace, preconditions: pre };
  }

  /**
   * Deletion with Kubernetes' semantics: objects with finalizers (or a pending foreground or orphan
   * cascade) only get a deletionTimestamp; pods bound to a node get a grace period their agent
   * honours; everything else is removed at once. Returns the object as it was last seen.
   */
  private async delete(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const { namespace, name } = req.info;
    const options = this.deleteOptions(req);
    const dryRun = this.dryRun(req);
    const current = await this.storage.get(r, namespace, name);
    if (options.preconditions.uid !== undefined && options.preconditions.uid !== current.metadata.uid) {
      throw new ApiStatusError(
        statusConflict(qr(r), name, `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${current.metadata.uid}`),
      );
    }
    if (options.preconditions.resourceVersion !== undefined && options.preconditions.resourceVersion !== current.metadata.resourceVersion) {
      throw new ApiStatusError(
        statusConflict(
          qr(r),
          name,
          `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        ),
      );
    }
    await this.admission.admit({ operation: "DELETE", resource: r, subresource: "", namespace, name, object: null, oldObject: current, user: req.user });
    const extraFinalizer = options.propagationPolicy === "Foreground" ? "foregroundDeletion" : options.propagationPolicy === "Orphan" ? "orphan" : null;
    const graceful = gracefulDeletionSeconds(r, current, options.gracePeriodSeconds);
    const finalizers = current.metadata.finalizers ?? [];
    if (finalizers.length > 0 || extraFinalizer !== null || graceful > 0 || r.plural === "namespaces") {
      if (dryRun) return { kind: "object", status: 200, body: r.fromStorageVersion(current) };
      const updated = await this.storage.update(r, namespace, name, (obj) => {
        const next = structuredClone(obj);
        if (next.metadata.deletionTimestamp === undefined) {
          next.metadata.deletionTimestamp = isoNow(this.nowMs() + graceful * 1000);
          next.metadata.deletionGracePeriodSeconds = graceful;
        } else if (graceful < (next.metadata.deletionGracePeriodSeconds ?? 0)) {
          // A shorter grace period may replace a longer one (kubectl delete --grace-period=0 --force).
          next.metadata.deletionTimestamp = isoNow(this.nowMs() + graceful * 1000);
          next.metadata.deletionGracePeriodSeconds = graceful;
        }
        if (extraFinalizer !== null && !(next.metadata.finalizers ?? []).includes(extraFinalizer))
          next.metadata.finalizers = [...(next.metadata.finalizers ?? []), extraFinalizer];
        if (r.plural === "namespaces") {
          const ns = next as KubeObject & { spec?: { finalizers?: string[] }; status?: { phase?: string } };
          ns.status = { ...(ns.status ?? {}), phase: "Terminating" };
        }
        return next;
      });
      const stillPending = (updated.metadata.finalizers ?? []).length > 0 || graceful > 0 || r.plural === "namespaces";
      if (stillPending) return { kind: "object", status: 200, body: r.fromStorageVersion(updated) };
    }
    if (dryRun) return { kind: "object", status: 200, body: r.fromStorageVersion(current) };
    const deleted = await this.storage.delete(r, namespace, name, { uid: current.metadata.uid ?? "" });
    return { kind: "object", status: 200, body: statusSuccessWithDetails(r, deleted) };
  }

  private async deleteCollection(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const listed = await this.list(r, { ...req, query: new URLSearchParams([...req.query].filter(([k]) => k !== "limit" && k !== "continue")) });
    const items = (listed.kind === "object" ? (listed.body as { items: KubeObject[] }).items : []) ?? [];
    for (const item of items) {
      await this.delete(r, { ...req, info: { ...req.info, verb: "delete", name: item.metadata.name ?? "" }, body: Buffer.alloc(0) }).catch((err: unknown) => {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      });
    }
    return { kind: "object", status: 200, body: { kind: r.listKind, apiVersion: r.apiVersion, metadata: {}, items } };
  }

  // ---- subresources --------------------------------------------------------------------------

  private async scale(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    const { verb } = req.info;
    if (verb === "get")
      return { kind: "object", status: 200, body: scaleOf(await this.storage.get(r, req.info.namespace, req.info.name)) as unknown as KubeObject };
    if (verb !== "update" && verb !== "patch") throw new ApiStatusError(statusMethodNotSupported(qr(r), verb));
    let scaleBody: JsonObject;
    if (verb === "update") {
      scaleBody = this.decodeBody(req);
    } else {
      const current = await this.storage.get(r, req.info.namespace, req.info.name);
      const type = patchTypeOf(req.contentType);
      if (type === undefined) throw new ApiStatusError(statusUnsupportedMediaType(req.contentType));
      scaleBody = applyPatch(type, scaleOf(current) as never, JSON.parse(req.body.toString("utf8")) as never, {});
    }
    const result = await this.updateWith(r, { ...req, info: { ...req.info, subresource: "" } }, (current) => {
      const scaled = applyScale(structuredClone(current), scaleBody as never);
      const rv = (scaleBody["metadata"] as { resourceVersion?: string } | undefined)?.resourceVersion;
      scaled.metadata.resourceVersion = rv ?? "";
      return scaled;
    });
    return { kind: "object", status: 200, body: scaleOf(result.kind === "object" ? (result.body as KubeObject) : ({} as KubeObject)) as unknown as KubeObject };
  }

  /** pods/binding: the scheduler's write; sets spec.nodeName once, with a uid precondition. */
  private async bind(r: ResourceDescriptor, req: RestRequest): Promise<RestResponse> {
    if (req.info.verb !== "create") throw new ApiStatusError(statusMethodNotSupported(qr(r), req.info.verb));
    const binding = this.decodeObject(r, req, "Binding", "v1") as KubeObject & { target?: { kind?: string; name?: string } };
    const node = binding.target?.name ?? "";
    if (node === "") throw invalidObjectError(r, req.info.name, [fieldErrors.required("target.name")]);
    await this.storage.update(r, req.info.namespace, req.info.name, (current) => {
      const pod = structuredClone(current) as KubeObject & { spec: { nodeName?: string } };
      if (binding.metadata.uid && binding.metadata.uid !== pod.metadata.uid) {
        throw new ApiStatusError(
          statusConflict(qr(r), req.info.name, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`),
        );
      }
      if (pod.metadata.deletionTimestamp !== undefined)
        throw new ApiStatusError(statusConflict(qr(r), req.info.name, "pod is being deleted, cannot be assigned to a host"));
      if (pod.spec.nodeName)
        throw new ApiStatusError(statusConflict(qr(r), req.info.name, `pod ${req.info.name} is already assigned to node "${pod.spec.nodeName}"`));
      pod.spec.nodeName = node;
      return pod;
    });
    return { kind: "object", status: 201, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 } };
  }
}

class DryRunDone extends Error {}

/** A pod bound to a node is finished by its agent (it stops the containers, then deletes). */
function needsAgentToFinish(r: ResourceDescriptor, obj: KubeObject): boolean {
  return (
    r.plural === "pods" &&
    r.group === "" &&
    Boolean((obj as { spec?: { nodeName?: string } }).spec?.nodeName) &&
    (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0
  );
}

/** Grace seconds for a deletion: pods on a node get their termination grace period; others none. */
function gracefulDeletionSeconds(r: ResourceDescriptor, obj: KubeObject, requested: number | undefined): number {
  if (!(r.plural === "pods" && r.group === "")) return 0;
  const pod = obj as KubeObject & { spec?: { nodeName?: string; terminationGracePeriodSeconds?: number } };
  // An unscheduled pod has no containers to stop: it goes at once (as in Kubernetes).
  if (!pod.spec?.nodeName) return 0;
  const grace = requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

function statusSuccessWithDetails(r: ResourceDescriptor, deleted: KubeObject): Record<string, unknown> {
  // kubectl prints `<kind> "<name>" deleted` from either the object or this Status.
  return {
    ...statusSuccess(qr(r), deleted.metadata.name ?? "", deleted.metadata.uid),
    details: { name: deleted.metadata.name, group: r.group, kind: r.plural, uid: deleted.metadata.uid },
  };
}
