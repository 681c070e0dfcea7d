/**
 * Field errors shaped like k8s.io/apimachinery/pkg/util/validation/field: a path such as
 * `spec.containers[0].name`, a type, the bad value and a detail. Their text is what kubectl prints,
 * so `errorString` follows field.Error.Error() exactly.
 */

export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError"
  | "FieldValueTypeInvalid";

/** The human text for each type, as field.ErrorType.String() gives it. */
const typeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
};

/** Marks an error whose bad value is not worth printing (field.OmitValueType). */
export const omitValue = Symbol("omitValue");

/** A bad value already rendered in Go syntax (printed as-is, like a fmt.Stringer), e.g. `v1.LabelSelector{...}`. */
export class GoValue {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export interface FieldError {
  type: FieldErrorType;
  field: string;
  badValue?: unknown;
  detail: string;
}

/** A field path under construction: `root.child("spec").child("containers").index(0).child("name")`. */
export class FieldPath {
  private constructor(private readonly text: string) {}

  static root(name: string, ...more: string[]): FieldPath {
    return new FieldPath([name, ...more].join("."));
  }

  child(name: string, ...more: string[]): FieldPath {
    let text = this.text === "" ? name : `${this.text}.${name}`;
    for (const m of more) text = `${text}.${m}`;
    return new FieldPath(text);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

export type PathLike = FieldPath | string;

const str = (p: PathLike): string => (typeof p === "string" ? p : p.toString());

export const fieldErrors = {
  required: (path: PathLike, detail = ""): FieldError => ({ type: "FieldValueRequired", field: str(path), badValue: "", detail }),
  invalid: (path: PathLike, value: unknown, detail: string): FieldError => ({ type: "FieldValueInvalid", field: str(path), badValue: value, detail }),
  notSupported: (path: PathLike, value: unknown, supported: readonly string[]): FieldError => ({
    type: "FieldValueNotSupported",
    field: str(path),
    badValue: value,
    detail: supported.length > 0 ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}` : "",
  }),
  duplicate: (path: PathLike, value: unknown): FieldError => ({ type: "FieldValueDuplicate", field: str(path), badValue: value, detail: "" }),
  forbidden: (path: PathLike, detail: string): FieldError => ({ type: "FieldValueForbidden", field: str(path), badValue: "", detail }),
  notFound: (path: PathLike, value: unknown): FieldError => ({ type: "FieldValueNotFound", field: str(path), badValue: value, detail: "" }),
  tooLong: (path: PathLike, value: unknown, maxLength: number): FieldError => ({
    type: "FieldValueTooLong",
    field: str(path),
    badValue: value,
    detail: `may not be more than ${maxLength} bytes`,
  }),
  tooMany: (path: PathLike, actual: number, max: number): FieldError => ({
    type: "FieldValueTooMany",
    field: str(path),
    badValue: actual,
    detail: `must have at most ${max} items`,
  }),
  internal: (path: PathLike, detail: string): FieldError => ({ type: "InternalError", field: str(path), badValue: "", detail }),
};

/**
 * Renders a bad value the way Go's fmt does in field.Error: numbers and booleans with %v,
 * strings with %q, and other values in a %#v-like form (`map[string]string{"app":"web"}`).
 */
export function formatBadValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "string":
      return JSON.stringify(value);
    default:
      return value instanceof GoValue ? value.text : goSyntax(value);
  }
}

function goSyntax(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "string")) return `[]string{${value.map((v) => JSON.stringify(v)).join(", ")}}`;
    return JSON.stringify(value);
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === "string")) {
      return `map[string]string{${entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(", ")}}`;
    }
    return JSON.stringify(value);
  }
  return String(value);
}

/** field.Error.ErrorBody(): the message without the field path (what a StatusCause carries). */
export function errorBody(error: FieldError): string {
  let body: string;
  switch (error.type) {
    case "FieldValueRequired":
    case "FieldValueForbidden":
    case "FieldValueTooLong":
    case "InternalError":
      body = typeText[error.type];
      break;
    default:
      body = error.badValue === omitValue ? typeText[error.type] : `${typeText[error.type]}: ${formatBadValue(error.badValue)}`;
  }
  if (error.detail.length > 0) body += `: ${error.detail}`;
  return body;
}

/** field.Error.Error(): `spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
export function errorString(error: FieldError): string {
  return `${error.field}: ${errorBody(error)}`;
}

/** field.ErrorList.ToAggregate().Error(): one message, or `[a, b]` for several (duplicates dropped). */
export function aggregateErrorString(errors: readonly FieldError[]): string {
  const messages = [...new Set(errors.map(errorString))];
  if (messages.length === 1) return messages[0] ?? "";
  return `[${messages.join(", ")}]`;
}
