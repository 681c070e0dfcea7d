/**
 * Server-side field validation, as kube-apiserver does it for `?fieldValidation=`:
 *
 * | directive | unknown or duplicate field in the body |
 * |---|---|
 * | `Strict` | create/update: 400 BadRequest `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", duplicate field "spec.replicas"`; patch: 422 Invalid `patch: Invalid value: "map[...]": strict decoding error: ...` |
 * | `Warn` (the default) | the field is dropped, and each finding becomes a `Warning: 299 - "unknown field \"spec.foo\""` header |
 * | `Ignore` | the field is dropped silently |
 *
 * Unknown means "not a field of Kubernetes' type" (the schema description in @coxswain/api);
 * duplicate means a JSON object naming a key twice, which only the request text shows, so bodies
 * are scanned as text, in document order, like the Go strict decoder. At most 100 findings.
 */
import {
  ApiStatusError,
  STRICT_ERRORS_MAX,
  type GroupVersionKind,
  type ResourceDescriptor,
  type SchemaType,
  bodyDefinitionOf,
  definitionNameOf,
  fieldErrors,
  joinPath,
  lookupListElement,
  lookupObjectKey,
  pruneUnknownFields,
  statusBadRequest,
  statusInvalid,
  unknownFieldPaths,
} from "@coxswain/api";

export type FieldValidationDirective = "Strict" | "Warn" | "Ignore";

export type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions";

/**
 * The `fieldValidation` query parameter; absent or empty means `Warn` (Kubernetes' default since
 * 1.27). Any other value is a 422 like Kubernetes' validation of Create/Update/PatchOptions.
 */
export function fieldValidationDirective(query: URLSearchParams, optionsKind: OptionsKind): FieldValidationDirective {
  const value = query.get("fieldValidation") ?? "";
  if (value === "") return "Warn";
  if (value === "Strict" || value === "Warn" || value === "Ignore") return value;
  throw new ApiStatusError(
    statusInvalid({ group: "meta.k8s.io", kind: optionsKind }, "", [fieldErrors.notSupported("fieldValidation", value, ["", "Ignore", "Strict", "Warn"])]),
  );
}

/** The paths of fields in `object` that the kind's schema does not have (`spec.foo`, `spec.containers[0].bar`). */
export function findUnknownFields(gvk: GroupVersionKind, object: unknown): string[] {
  const definition = definitionNameOf(gvk);
  if (definition === undefined) return [];
  return unknownFieldPaths(definition, object);
}

// ---- scanning request text ----------------------------------------------------------------------

/** How the scanner sees the value at a position: what its keys and elements are. */
interface Shape {
  key(key: string): { known: boolean; child: Shape | undefined };
  element(): Shape | undefined;
}

function schemaShape(type: SchemaType | undefined): Shape | undefined {
  if (type === undefined) return undefined;
  return {
    key(key) {
      const lookup = lookupObjectKey(type, key);
      return lookup.known ? { known: true, child: schemaShape(lookup.type) } : { known: false, child: undefined };
    },
    element: () => schemaShape(lookupListElement(type)),
  };
}

/** Any JSON: every key known, nothing checked below (a map[string]interface{} patch body). */
const untypedShape: Shape = { key: () => ({ known: true, child: untypedShape }), element: () => untypedShape };

/** A JSON patch: a list of operations with fields op, path, from, value (the apiserver's jsonPatchOp). */
const jsonPatchShape: Shape = {
  key: () => ({ known: true, child: undefined }),
  element: () => ({
    key: (key) =>
      ["op", "path", "from", "value"].includes(key) ? { known: true, child: key === "value" ? untypedShape : undefined } : { known: false, child: undefined },
    element: () => undefined,
  }),
};

/** Nesting deeper than this is not scanned (Kubernetes' JSON decoder refuses depth over 10000). */
const SCAN_DEPTH_MAX = 1000;

class BodyScanner {
  private pos = 0;
  readonly findings: string[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly text: string) {}

  private report(message: string): void {
    if (this.findings.length >= STRICT_ERRORS_MAX || this.seen.has(message)) return;
    this.seen.add(message);
    this.findings.push(message);
  }

  private ws(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === "\\") this.pos += 2;
      else if (c === '"') break;
      else this.pos++;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  /** Scans one value at `path` with `shape`; the text is known to be valid JSON. */
  value(shape: Shape | undefined, path: string, depth: number): void {
    this.ws();
    const c = this.text[this.pos];
    if (c === "{") {
      this.pos++;
      const keys = new Set<string>();
      this.ws();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return;
      }
      for (;;) {
        this.ws();
        const key = this.string();
        const childPath = joinPath(path, key);
        this.ws();
        this.pos++; // ':'
        let child: Shape | undefined;
        const lookup = shape?.key(key);
        if (lookup !== undefined && !lookup.known) {
          // An unknown key given twice is one finding: the Go decoder tracks duplicates of known fields only.
          this.report(`unknown field ${JSON.stringify(childPath)}`);
          child = undefined;
        } else {
          if (keys.has(key)) this.report(`duplicate field ${JSON.stringify(childPath)}`);
          keys.add(key);
          child = lookup?.child;
        }
        this.value(depth >= SCAN_DEPTH_MAX ? undefined : child, childPath, depth + 1);
        this.ws();
        if (this.text[this.pos] === ",") {
          this.pos++;
          continue;
        }
        this.pos++; // '}'
        return;
      }
    }
    if (c === "[") {
      this.pos++;
      this.ws();
      if (this.text[this.pos] === "]") {
        this.pos++;
        return;
      }
      const element = shape?.element();
      for (let i = 0; ; i++) {
        this.value(depth >= SCAN_DEPTH_MAX ? undefined : element, `${path}[${i}]`, depth + 1);
        this.ws();
        if (this.text[this.pos] === ",") {
          this.pos++;
          continue;
        }
        this.pos++; // ']'
        return;
      }
    }
    if (c === '"') {
      this.string();
      return;
    }
    // number, true, false, null
    while (this.pos < this.text.length && !",}] \n\r\t".includes(this.text[this.pos] ?? "")) this.pos++;
  }
}

/**
 * Strict decoding errors of a JSON request body against a definition, in document order:
 * `unknown field "spec.foo"`, `duplicate field "metadata.name"`. With no definition only
 * duplicates are found. Text that is not valid JSON yields none (decoding reports it).
 */
export function strictDecodingErrors(definition: string | undefined, bodyText: string): string[] {
  return scan(definition === undefined ? untypedShape : schemaShape({ type: "ref", name: definition }), bodyText);
}

function scan(shape: Shape | undefined, text: string): string[] {
  try {
    JSON.parse(text);
  } catch {
    return [];
  }
  const scanner = new BodyScanner(text);
  scanner.value(shape, "", 0);
  return scanner.findings;
}

// ---- the request outcomes -------------------------------------------------------------------------

export interface FieldValidationOutcome {
  /** Texts for `Warning` headers (`unknown field "spec.foo"`); empty unless the directive is Warn. */
  warnings: string[];
}

/** `299 - "unknown field \"spec.foo\""`: a Warning header value as Kubernetes writes it. */
export function warningHeaderValue(text: string): string {
  return `299 - "${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function kindAndVersionOf(object: unknown, fallbackKind: string, fallbackVersion: string): { kind: string; version: string } {
  const o = (typeof object === "object" && object !== null ? object : {}) as { kind?: unknown; apiVersion?: unknown };
  const kind = typeof o.kind === "string" && o.kind !== "" ? o.kind : fallbackKind;
  const apiVersion = typeof o.apiVersion === "string" && o.apiVersion !== "" ? o.apiVersion : fallbackVersion;
  return { kind, version: apiVersion.includes("/") ? apiVersion.slice(apiVersion.indexOf("/") + 1) : apiVersion };
}

export interface BodyFieldsRequest {
  resource: ResourceDescriptor;
  /** "", "status", "scale" or "binding": which schema the body must match. */
  subresource: string;
  directive: FieldValidationDirective;
  /** The request body as sent. */
  bodyText: string;
  /** The decoded body, in the request's version; unknown fields are removed from it unless Strict fails. */
  object: unknown;
}

/**
 * Create and update (PUT), including the status, scale and binding subresources: checks the body
 * before anything else looks at it. Strict: throws the 400 Kubernetes' decoder gives. Warn and
 * Ignore: removes unknown fields from `object`; Warn returns the findings as warnings.
 */
export function checkBodyFields(request: BodyFieldsRequest): FieldValidationOutcome {
  const definition = bodyDefinitionOf(request.resource, request.subresource);
  if (definition === undefined) return { warnings: [] };
  const findings = strictDecodingErrors(definition, request.bodyText);
  if (findings.length > 0 && request.directive === "Strict") {
    const sub = request.resource.subresources.find((s) => s.name === request.subresource);
    const expectedKind = sub !== undefined && request.subresource !== "status" ? sub.kind : request.resource.kind;
    const expectedVersion = sub !== undefined && request.subresource !== "status" ? sub.version : request.resource.version;
    const { kind, version } = kindAndVersionOf(request.object, expectedKind, expectedVersion);
    throw new ApiStatusError(
      statusBadRequest(`${kind} in version ${JSON.stringify(version)} cannot be handled as a ${expectedKind}: strict decoding error: ${findings.join(", ")}`),
    );
  }
  pruneUnknownFields(definition, request.object);
  return { warnings: request.directive === "Warn" ? findings : [] };
}

export type PatchKind = "json" | "merge" | "strategic";

export interface PatchedFieldsRequest {
  resource: ResourceDescriptor;
  /** "" or "status" (a scale patch is checked as a Scale body). */
  subresource: string;
  directive: FieldValidationDirective;
  patchType: PatchKind;
  /** The patch as sent. */
  patchText: string;
  /** The object before the patch, in the request's version. */
  current: unknown;
  /** The object the patch produced, in the request's version; unknown fields are removed unless Strict fails. */
  patched: unknown;
}

/**
 * PATCH: after the patch is applied. Findings are the patch text's own strict errors (duplicate
 * keys; for a JSON patch also unknown operation fields, prefixed `json patch`) followed by the
 * unknown fields of the patched object. Unknown fields the stored object already had are not
 * blamed on this request (Kubernetes never stores them; Coxswain might have, before validation
 * existed), but they are dropped like the rest. Strict: throws Kubernetes' 422.
 */
export function checkPatchedFields(request: PatchedFieldsRequest): FieldValidationOutcome {
  const definition = bodyDefinitionOf(request.resource, request.subresource);
  const patchErrors =
    request.patchType === "json" ? scan(jsonPatchShape, request.patchText).map((e) => `json patch ${e}`) : scan(untypedShape, request.patchText);
  let objectErrors: string[] = [];
  if (definition !== undefined) {
    const before = new Set(unknownFieldPaths(definition, request.current));
    objectErrors = unknownFieldPaths(definition, request.patched)
      .filter((p) => !before.has(p))
      .map((p) => `unknown field ${JSON.stringify(p)}`);
  }
  const findings = [...patchErrors, ...objectErrors].slice(0, STRICT_ERRORS_MAX);
  if (findings.length > 0 && request.directive === "Strict") {
    // The bad value is the patch map (strategic) or the patched object (JSON and merge patches), as Go prints them.
    const badValue = request.patchType === "strategic" ? goFormat(safeParse(request.patchText)) : canonicalJson(request.patched);
    throw new ApiStatusError(
      statusInvalid({ group: "", kind: "" }, "", [fieldErrors.invalid("patch", badValue, `strict decoding error: ${findings.join(", ")}`)]),
    );
  }
  if (definition !== undefined) pruneUnknownFields(definition, request.patched);
  return { warnings: request.directive === "Warn" ? findings : [] };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** JSON with object keys sorted, as Go's encoding/json writes a map. */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v === "object" && v !== null) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sort((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/** A float as Go's %v prints it (strconv 'g', shortest): exponent form below 1e-4 or from 1e6 (`1.5e+06`, `1.5e-07`). */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
  const exponent = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa = "", exp = "0"] = n.toExponential().split("e");
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return String(n);
}

/** A decoded JSON value as Go's `%+v` prints a map[string]interface{}: `map[a:1 b:[x y] c:map[d:<nil>]]`. */
export function goFormat(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (Array.isArray(value)) return `[${value.map(goFormat).join(" ")}]`;
  if (typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${k}:${goFormat((value as Record<string, unknown>)[k])}`);
    return `map[${entries.join(" ")}]`;
  }
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : goFloat(value);
  if (typeof value === "string") return value;
  return typeof value === "boolean" || typeof value === "bigint" ? String(value) : "";
}
