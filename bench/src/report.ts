/** Shared output for every benchmark: a readable table, then one `BENCH {json}` line per scenario. */
export type BenchRow = Record<string, string | number | null>;

export function printTable(title: string, rows: BenchRow[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number | null): string => (v === null ? "-" : typeof v === "number" ? formatNumber(v) : v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c] ?? null).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padStart(widths[i]!)).join("  ");
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c] ?? null))));
}

export function printBenchLine(fields: Record<string, unknown>): void {
  console.log(`BENCH ${JSON.stringify(fields)}`);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
