/**
 * Response content negotiation, as kubectl and client libraries ask for it:
 *   Accept: application/json;as=Table;v=v1;g=meta.k8s.io, application/json
 * turns a get or list into a meta.k8s.io/v1 Table; anything else (or nothing) is plain JSON.
 * Protobuf is not served; a client that only accepts it gets 406.
 */
export interface Negotiated {
  table: boolean;
  /** ?includeObject=None|Metadata|Object for Table rows. */
  includeObject: "None" | "Metadata" | "Object";
}

export class NotAcceptableError extends Error {
  override readonly name = "NotAcceptableError";
}

export function negotiate(accept: string | undefined, query: URLSearchParams): Negotiated {
  const include = query.get("includeObject");
  const includeObject = include === "None" || include === "Object" ? include : "Metadata";
  if (accept === undefined || accept.trim() === "") return { table: false, includeObject };
  const options = accept.split(",").map((part) => {
    const [type = "", ...params] = part.split(";").map((s) => s.trim());
    const p = new Map(params.map((kv) => kv.split("=").map((s) => s.trim()) as [string, string]));
    return { type: type.toLowerCase(), as: p.get("as"), g: p.get("g"), v: p.get("v") };
  });
  for (const o of options) {
    if (o.type !== "application/json" && o.type !== "*/*" && o.type !== "application/*") continue;
    if (o.as === undefined) return { table: false, includeObject };
    if (o.as === "Table" && o.g === "meta.k8s.io" && (o.v === "v1" || o.v === "v1beta1")) return { table: true, includeObject };
  }
  if (options.some((o) => o.type === "application/vnd.kubernetes.protobuf") && !options.some((o) => o.type.includes("json") || o.type.includes("*"))) {
    throw new NotAcceptableError("only application/json responses are served; protobuf is not supported");
  }
  return { table: false, includeObject };
}
