/**
 * Scenario script files: `> command` lines, each followed by the output it is expected to print,
 * with `#` comment lines and blank lines telling the story in between. Running a script yields
 * the same file with every expected output replaced by the actual one, so comparing that with
 * the original is the test and writing it back is the rewrite.
 */
import { Interaction } from "./interaction.js";

export class ScriptParseError extends Error {
  override readonly name = "ScriptParseError";
}

/** A command failed (bad script, or an invariant violation); names the script line. */
export class ScriptRunError extends Error {
  override readonly name = "ScriptRunError";
}

export type ScriptLine = { kind: "text"; text: string } | { kind: "command"; lineNumber: number; command: string; expected: string[] };

const COMMAND_PREFIX = "> ";

/** Output runs until a blank line, a comment or the next command. */
function endsOutput(line: string): boolean {
  return line.trim().length === 0 || line.startsWith("#") || line.startsWith(">");
}

export function parseScript(text: string): ScriptLine[] {
  const lines = text.split("\n");
  // A trailing newline does not start another (empty) line.
  if (lines[lines.length - 1] === "") lines.pop();
  const parsed: ScriptLine[] = [];
  for (let i = 0; i < lines.length;) {
    const line = lines[i]!;
    if (line.startsWith(COMMAND_PREFIX)) {
      const lineNumber = i + 1;
      const expected: string[] = [];
      for (i++; i < lines.length && !endsOutput(lines[i]!); i++) expected.push(lines[i]!);
      parsed.push({ kind: "command", lineNumber, command: line.slice(COMMAND_PREFIX.length), expected });
      continue;
    }
    if (!endsOutput(line) || line.startsWith(">")) {
      throw new ScriptParseError(`line ${i + 1}: expected "> command", "# comment" or a blank line, got "${line}"`);
    }
    parsed.push({ kind: "text", text: line });
    i++;
  }
  return parsed;
}

export function renderScript(lines: ScriptLine[]): string {
  const out: string[] = [];
  for (const l of lines) {
    if (l.kind === "text") out.push(l.text);
    else out.push(COMMAND_PREFIX + l.command, ...l.expected);
  }
  return out.join("\n") + "\n";
}

/** Runs every command of the script on a fresh cluster; returns the script with actual outputs. */
export function runScript(text: string): string {
  const interaction = new Interaction();
  const lines = parseScript(text).map((l): ScriptLine => {
    if (l.kind === "text") return l;
    let actual: string[];
    try {
      actual = interaction.execute(l.command);
    } catch (err) {
      const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new ScriptRunError(`line ${l.lineNumber}: > ${l.command}: ${why}`, { cause: err });
    }
    for (const out of actual) {
      // Otherwise the file could not be read back unambiguously.
      if (endsOutput(out)) throw new ScriptRunError(`line ${l.lineNumber}: > ${l.command}: printed a line that would end its output: "${out}"`);
    }
    return { ...l, expected: actual };
  });
  return renderScript(lines);
}

/** Lines of common context shown around each changed region of a diff. */
const DIFF_CONTEXT_LINES = 3;
/** Beyond this many lines on both sides the diff falls back to listing the first difference. */
const DIFF_LINES_MAX = 5000;

/**
 * A line diff in the unified style ("-expected", "+actual", "  context") with @@ line numbers,
 * computed from a longest common subsequence (scripts are a few hundred lines).
 */
export function diffLines(expectedText: string, actualText: string): string {
  const a = expectedText.split("\n");
  const b = actualText.split("\n");
  if (a.length > DIFF_LINES_MAX || b.length > DIFF_LINES_MAX) {
    const i = a.findIndex((line, k) => line !== b[k]);
    return `first difference at line ${i + 1}:\n-${a[i] ?? ""}\n+${b[i] ?? ""}`;
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  type Op = { tag: " " | "-" | "+"; text: string; aLine: number; bLine: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ tag: " ", text: a[i++]!, aLine: i, bLine: ++j });
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ tag: "-", text: a[i++]!, aLine: i, bLine: j + 1 });
    else ops.push({ tag: "+", text: b[j++]!, aLine: i + 1, bLine: j });
  }
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.tag === " ") {
      k++;
      continue;
    }
    // A hunk: the changed run plus context, merged with following changes closer than 2× context.
    let end = k;
    while (end < ops.length) {
      let next = end;
      while (next < ops.length && ops[next]!.tag !== " ") next++;
      let gap = next;
      while (gap < ops.length && ops[gap]!.tag === " ") gap++;
      end = next;
      if (gap >= ops.length || gap - next > 2 * DIFF_CONTEXT_LINES) break;
      end = gap;
    }
    const from = Math.max(0, k - DIFF_CONTEXT_LINES);
    const to = Math.min(ops.length, end + DIFF_CONTEXT_LINES);
    out.push(`@@ expected line ${ops[from]!.aLine}, actual line ${ops[from]!.bLine} @@`);
    for (let x = from; x < to; x++) out.push(`${ops[x]!.tag}${ops[x]!.text}`);
    k = to;
  }
  return out.join("\n");
}
