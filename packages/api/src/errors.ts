/**
 * `Status` bodies for every error the API returns, worded as k8s.io/apimachinery/pkg/api/errors
 * words them (kubectl prints `message` after "Error from server (<reason>): "), and ApiStatusError,
 * the typed error that carries one from where it happens to the HTTP or gRPC front end.
 */
import type { Status, StatusCause } from "./types/meta/v1.js";
import { aggregateErrorString, errorBody, type FieldError } from "./validation/field.js";

export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "TooManyRequests"
  | "InternalError"
  | "ServiceUnavailable"
  | "Timeout";

/** Which resource an error is about: `group` is "" for the core group. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

export interface QualifiedKind {
  group: string;
  kind: string;
}

/** `deployments.apps` or `pods`, as schema.GroupResource.String(). */
export function qualifiedResourceString(qr: QualifiedResource): string {
  return qr.group === "" ? qr.resource : `${qr.resource}.${qr.group}`;
}

export function qualifiedKindString(qk: QualifiedKind): string {
  return qk.group === "" ? qk.kind : `${qk.kind}.${qk.group}`;
}

function failure(code: number, reason: StatusReason, message: string, details?: Status["details"]): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details !== undefined) status.details = details;
  return status;
}

function detailsFor(group: string, kind: string, name?: string): NonNullable<Status["details"]> {
  const details: NonNullable<Status["details"]> = {};
  if (name !== undefined && name !== "") details.name = name;
  if (group !== "") details.group = group;
  details.kind = kind;
  return details;
}

/** 422: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
export function statusInvalid(qk: QualifiedKind, name: string, errors: readonly FieldError[]): Status {
  const causes: StatusCause[] = errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field }));
  const message =
    errors.length === 0
      ? `${qualifiedKindString(qk)} ${JSON.stringify(name)} is invalid`
      : `${qualifiedKindString(qk)} ${JSON.stringify(name)} is invalid: ${aggregateErrorString(errors)}`;
  return failure(422, "Invalid", message, { ...detailsFor(qk.group, qk.kind, name), causes });
}

export function statusNotFound(qr: QualifiedResource, name: string): Status {
  return failure(404, "NotFound", `${qualifiedResourceString(qr)} ${JSON.stringify(name)} not found`, detailsFor(qr.group, qr.resource, name));
}

export function statusAlreadyExists(qr: QualifiedResource, name: string): Status {
  return failure(409, "AlreadyExists", `${qualifiedResourceString(qr)} ${JSON.stringify(name)} already exists`, detailsFor(qr.group, qr.resource, name));
}

/** The message optimistic-concurrency failures carry in Kubernetes. */
export const objectModifiedMessage = "the object has been modified; please apply your changes to the latest version and try again";

export function statusConflict(qr: QualifiedResource, name: string, detail: string = objectModifiedMessage): Status {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResourceString(qr)} ${JSON.stringify(name)}: ${detail}`,
    detailsFor(qr.group, qr.resource, name),
  );
}

export function statusBadRequest(message: string): Status {
  return failure(400, "BadRequest", message);
}

export function statusUnauthorized(message = "Unauthorized"): Status {
  return failure(401, "Unauthorized", message);
}

/** 403: `pods "x" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "default"`. */
export function statusForbidden(qr: QualifiedResource, name: string, reason: string): Status {
  const subject = name === "" ? qualifiedResourceString(qr) : `${qualifiedResourceString(qr)} ${JSON.stringify(name)}`;
  return failure(403, "Forbidden", `${subject} is forbidden: ${reason}`, detailsFor(qr.group, qr.resource, name));
}

export function statusMethodNotSupported(qr: QualifiedResource, action: string): Status {
  return failure(
    405,
    "MethodNotAllowed",
    `${action} is not supported on resources of kind ${JSON.stringify(qualifiedResourceString(qr))}`,
    detailsFor(qr.group, qr.resource),
  );
}

/** 410 for a watch or list from a compacted resourceVersion: "too old resource version: 5 (120)". */
export function statusResourceExpired(message: string): Status {
  return failure(410, "Expired", message);
}

export function statusGone(message: string): Status {
  return failure(410, "Gone", message);
}

export const acceptedRequestMediaTypes = [
  "application/json",
  "application/yaml",
  "application/vnd.kubernetes.protobuf",
  "application/apply-patch+yaml",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/json-patch+json",
] as const;

export function statusUnsupportedMediaType(contentType: string, accepted: readonly string[] = acceptedRequestMediaTypes): Status {
  return failure(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format (${contentType}) - accepted media types include: ${accepted.join(", ")}`,
  );
}

export function statusRequestEntityTooLarge(message = "the request is too large"): Status {
  return failure(413, "RequestEntityTooLarge", `Request entity too large: ${message}`);
}

export function statusTooManyRequests(message: string, retryAfterSeconds: number): Status {
  return failure(429, "TooManyRequests", message, { retryAfterSeconds });
}

export function statusInternalError(message: string): Status {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function statusServiceUnavailable(message: string): Status {
  return failure(503, "ServiceUnavailable", message);
}

export function statusTimeout(message: string, retryAfterSeconds = 0): Status {
  return failure(504, "Timeout", `Timeout: ${message}`, { retryAfterSeconds });
}

/** The body of a successful delete of an object that is gone at once (finalizer-free). */
export function statusSuccess(qr: QualifiedResource, name: string, uid?: string): Status {
  const details = detailsFor(qr.group, qr.resource, name);
  if (uid !== undefined) details.uid = uid;
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details };
}

/** A request failed with a Kubernetes Status: thrown by API code, turned into a response by the front end. */
export class ApiStatusError extends Error {
  override readonly name = "ApiStatusError";
  readonly status: Status;

  constructor(status: Status, options?: { cause?: unknown }) {
    super(status.message ?? status.reason ?? "request failed", options);
    this.status = status;
  }

  get code(): number {
    return this.status.code ?? 500;
  }

  get reason(): string {
    return this.status.reason ?? "";
  }
}

export function isApiStatusError(error: unknown, reason?: StatusReason): error is ApiStatusError {
  return error instanceof ApiStatusError && (reason === undefined || error.reason === reason);
}
