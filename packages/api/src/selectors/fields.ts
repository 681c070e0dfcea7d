/**
 * Field selectors (k8s.io/apimachinery/pkg/fields): `a=b,c!=d`, with `==` as a synonym of `=` and
 * `\` escaping `,`, `=`, `!` and `\` in values. Which fields a kind supports is in the registry;
 * asking for another one is "field label not supported: <field>", as Kubernetes answers.
 */

export type FieldOperator = "=" | "!=";

export interface FieldRequirement {
  field: string;
  operator: FieldOperator;
  value: string;
}

export class FieldSelectorParseError extends Error {
  override readonly name = "FieldSelectorParseError";
}

export class FieldSelectorUnsupportedError extends Error {
  override readonly name = "FieldSelectorUnsupportedError";
  constructor(readonly field: string) {
    super(`field label not supported: ${field}`);
  }
}

/** How one kind exposes a field to selectors: a getter returning the field's string form. */
export type FieldGetter<T> = (obj: T) => string;
export type FieldSet<T> = Readonly<Record<string, FieldGetter<T>>>;

export class FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  /** Throws FieldSelectorUnsupportedError naming the first field the kind does not support. */
  checkSupported(fields: FieldSet<never>): void {
    for (const r of this.requirements) if (!Object.hasOwn(fields, r.field)) throw new FieldSelectorUnsupportedError(r.field);
  }

  matches<T>(obj: T, fields: FieldSet<T>): boolean {
    return this.requirements.every((r) => {
      const getter = fields[r.field];
      if (getter === undefined) throw new FieldSelectorUnsupportedError(r.field);
      const actual = getter(obj);
      return r.operator === "=" ? actual === r.value : actual !== r.value;
    });
  }

  /** The value this selector pins a field to with `=`, if any (e.g. spec.nodeName for the agent's watch). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === "=")?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(",");
  }
}

export function escapeValue(value: string): string {
  return value.replace(/[\\,=!]/g, (c) => `\\${c}`);
}

function unescapeValue(term: string, value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? "";
    if (c === "\\") {
      const next = value[i + 1];
      if (next === undefined || !"\\,=!".includes(next)) throw new FieldSelectorParseError(`invalid selector: '${term}'; invalid escape sequence`);
      out += next;
      i++;
    } else if (c === "," || c === "=") {
      throw new FieldSelectorParseError(`invalid selector: '${term}'; unescaped '${c}'`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Splits on separators not preceded by an odd number of backslashes. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? "";
    if (c === "\\" && i + 1 < text.length) {
      current += c + (text[i + 1] ?? "");
      i++;
    } else if (c === ",") {
      terms.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  terms.push(current);
  return terms;
}

/** Parses `?fieldSelector=`. Throws FieldSelectorParseError("invalid selector: ..."). */
export function parseFieldSelector(text: string): FieldSelector {
  if (text.trim() === "") return new FieldSelector([]);
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(text)) {
    if (term === "") continue;
    let parsed: FieldRequirement | undefined;
    for (let i = 0; i < term.length && parsed === undefined; i++) {
      if (term[i] === "\\") {
        i++;
        continue;
      }
      for (const [op, operator] of [
        ["!=", "!="],
        ["==", "="],
        ["=", "="],
      ] as const) {
        if (term.startsWith(op, i)) {
          parsed = { field: term.slice(0, i).trim(), operator, value: unescapeValue(term, term.slice(i + op.length)) };
          break;
        }
      }
    }
    if (parsed === undefined || parsed.field === "") throw new FieldSelectorParseError(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push(parsed);
  }
  return new FieldSelector(requirements);
}
