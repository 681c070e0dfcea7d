/**
 * Reading what kubectl prints: its tables (columns separated by runs of two or more spaces) and
 * multi-document YAML manifests written for `-f -`.
 */
import assert from "node:assert/strict";
import YAML from "yaml";

export interface PrintedTable {
  columns: string[];
  rows: Array<Record<string, string>>;
}

/**
 * Parses one table as kubectl prints it. Cells are split on two or more spaces, so a table whose
 * cells may be empty (e.g. a Job's DURATION) must be checked by line, not with this.
 */
export function parseTable(text: string): PrintedTable {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0];
  assert.ok(header !== undefined, `a table, got ${JSON.stringify(text)}`);
  const columns = header.trim().split(/\s{2,}/);
  const rows = lines.slice(1).map((line) => {
    const cells = line.trim().split(/\s{2,}/);
    assert.equal(cells.length, columns.length, `row ${JSON.stringify(line)} has one cell per column of ${JSON.stringify(header)}`);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i]!]));
  });
  return { columns, rows };
}

/** The row whose NAME column is `name`. */
export function rowNamed(table: PrintedTable, name: string): Record<string, string> {
  const row = table.rows.find((r) => r["NAME"] === name);
  assert.ok(row !== undefined, `a row named ${name} in ${JSON.stringify(table.rows.map((r) => r["NAME"]))}`);
  return row;
}

/** Manifests as one multi-document YAML text. */
export function manifests(...objects: object[]): string {
  return objects.map((o) => YAML.stringify(o)).join("---\n");
}

export function parseYaml<T = Record<string, unknown>>(text: string): T {
  return YAML.parse(text) as T;
}

export interface DeploymentOptions {
  namespace?: string;
  replicas?: number;
  image?: string;
  labels?: Record<string, string>;
}

export function deploymentManifest(name: string, options: DeploymentOptions = {}): Record<string, unknown> {
  const app = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, ...(options.namespace !== undefined ? { namespace: options.namespace } : {}), labels: { ...app, ...(options.labels ?? {}) } },
    spec: {
      replicas: options.replicas ?? 2,
      selector: { matchLabels: app },
      template: {
        metadata: { labels: app },
        spec: { containers: [{ name: "main", image: options.image ?? "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

export function configMapManifest(
  name: string,
  data: Record<string, string>,
  options: { namespace?: string; labels?: Record<string, string>; finalizers?: string[] } = {},
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.labels !== undefined ? { labels: options.labels } : {}),
      ...(options.finalizers !== undefined ? { finalizers: options.finalizers } : {}),
    },
    data,
  };
}

export function serviceManifest(name: string, selector: Record<string, string>, port: number): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Service", metadata: { name, labels: selector }, spec: { selector, ports: [{ port, targetPort: port }] } };
}
