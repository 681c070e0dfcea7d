/** Builds `meta.k8s.io/v1` Tables: what the apiserver returns when kubectl asks for `as=Table`. */
import type { KubeObject, ListMeta, PartialObjectMetadata, Table, TableColumnDefinition, TableRow } from "../types/meta/v1.js";
import { defaultPrinter, type PrintContext, type TablePrinter } from "./columns.js";

/** The `?includeObject=` query parameter: what each row carries besides its cells (default Metadata). */
export type IncludeObject = "None" | "Metadata" | "Object";

export interface TableOptions extends PrintContext {
  includeObject?: IncludeObject;
  /** resourceVersion / continue of the list the rows came from. */
  listMeta?: ListMeta;
  /** `Accept: ...;as=Table` with `?watch` or `noHeaders`-style requests omit the column definitions after the first. */
  omitColumnDefinitions?: boolean;
}

export function columnDefinitions(printer: TablePrinter): TableColumnDefinition[] {
  return printer.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: c.description, priority: c.priority ?? 0 }));
}

function rowObject(obj: KubeObject, include: IncludeObject): TableRow["object"] {
  if (include === "Object") return obj;
  if (include === "Metadata") {
    const partial: PartialObjectMetadata = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
    return partial;
  }
  return undefined;
}

export function printRow<T extends KubeObject>(printer: TablePrinter<T>, obj: T, options: TableOptions): TableRow {
  const row: TableRow = { cells: printer.columns.map((c) => c.cell(obj, options)) };
  const conditions = printer.rowConditions?.(obj);
  if (conditions !== undefined) row.conditions = conditions;
  const object = rowObject(obj, options.includeObject ?? "Metadata");
  if (object !== undefined) row.object = object;
  return row;
}

export function printTable<T extends KubeObject>(printer: TablePrinter<T> | undefined, objects: readonly T[], options: TableOptions): Table {
  const p = printer ?? defaultPrinter;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: options.listMeta ?? {},
    columnDefinitions: options.omitColumnDefinitions ? [] : columnDefinitions(p as unknown as TablePrinter),
    rows: objects.map((o) => printRow(p, o, options)),
  };
}
