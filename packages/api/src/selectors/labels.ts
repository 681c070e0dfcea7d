/**
 * Label selectors with Kubernetes' grammar (k8s.io/apimachinery/pkg/labels):
 *   selector    = requirement { "," requirement }      (comma is AND)
 *   requirement = ["!"] key | key ("=" | "==" | "!=") value | key ("in" | "notin") "(" values ")"
 *                 | key (">" | "<") integer
 * plus the structured LabelSelector (matchLabels / matchExpressions) that objects carry.
 */
import type { LabelSelector, LabelSelectorRequirement } from "../types/meta/v1.js";
import { errorString, fieldErrors, FieldPath, type FieldError } from "../validation/field.js";
import { isQualifiedName, isValidLabelValue } from "../validation/names.js";

export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated, as labels.NewRequirement keeps them. */
  values: string[];
}

export class LabelSelectorParseError extends Error {
  override readonly name = "LabelSelectorParseError";
}

/** A parsed selector: an AND of requirements. `matchesNothing` is the nil-LabelSelector case. */
export class Selector {
  constructor(
    readonly requirements: readonly LabelRequirement[],
    readonly matchesNothing = false,
  ) {}

  static everything(): Selector {
    return new Selector([]);
  }

  static nothing(): Selector {
    return new Selector([], true);
  }

  isEmpty(): boolean {
    return !this.matchesNothing && this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    if (this.matchesNothing) return false;
    const set = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, set));
  }

  /** Canonical text, requirements sorted by key (labels.Selector.String()). */
  toString(): string {
    return [...this.requirements]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(requirementString)
      .join(",");
  }
}

function requirementMatches(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && value !== undefined && r.values.includes(value);
    case "!=":
    case "notin":
      return !has || value === undefined || !r.values.includes(value);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || value === undefined || !/^-?[0-9]+$/.test(value)) return false;
      const actual = Number(value);
      const bound = Number(r.values[0]);
      return r.operator === "gt" ? actual > bound : actual < bound;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${r.values.join(",")})`;
    case "gt":
      return `${r.key}>${r.values[0] ?? ""}`;
    case "lt":
      return `${r.key}<${r.values[0] ?? ""}`;
    default:
      return `${r.key}${r.operator}${r.values[0] ?? ""}`;
  }
}

/** Builds one requirement, checking key and values as labels.NewRequirement does. */
export function newRequirement(key: string, operator: LabelOperator, values: readonly string[]): LabelRequirement {
  const errors: FieldError[] = [];
  for (const msg of isQualifiedName(key)) errors.push(fieldErrors.invalid("key", key, msg));
  const valuesPath = FieldPath.root("values");
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0) errors.push(fieldErrors.invalid(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) errors.push(fieldErrors.invalid(valuesPath, values, "exact-match compatibility requires one single value"));
      break;
    case "exists":
    case "!":
      if (values.length !== 0) errors.push(fieldErrors.invalid(valuesPath, values, "values set must be empty for exists and does not exist"));
      break;
    case "gt":
    case "lt":
      if (values.length !== 1 || !/^-?[0-9]+$/.test(values[0] ?? "")) {
        errors.push(fieldErrors.invalid(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required and it must be an integer"));
      }
      break;
  }
  if (operator !== "gt" && operator !== "lt") {
    values.forEach((v, i) => {
      for (const msg of isValidLabelValue(v)) errors.push(fieldErrors.invalid(valuesPath.index(i).key(key), v, msg));
    });
  }
  if (errors.length > 0) throw new LabelSelectorParseError(`unable to parse requirement: ${errors.map(errorString).join(", ")}`);
  return { key, operator, values: [...new Set(values)].sort() };
}

// ---- the text grammar ----

type TokenKind = "identifier" | "!" | "!=" | "=" | "==" | "," | "(" | ")" | ">" | "<" | "in" | "notin" | "end";

interface Token {
  kind: TokenKind;
  text: string;
}

const specialChars = new Set(["=", "!", "(", ")", ",", ">", "<"]);

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (specialChars.has(c)) {
      const two = input.slice(i, i + 2);
      if (two === "!=" || two === "==") {
        tokens.push({ kind: two, text: two });
        i += 2;
      } else {
        tokens.push({ kind: c as TokenKind, text: c });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < input.length && !specialChars.has(input[j] ?? "") && !/\s/.test(input[j] ?? "")) j++;
    const word = input.slice(i, j);
    tokens.push({ kind: word === "in" || word === "notin" ? word : "identifier", text: word });
    i = j;
  }
  tokens.push({ kind: "end", text: "" });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === "end" ? "end of string" : token.text;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.position] ?? { kind: "end", text: "" };
  }

  private next(): Token {
    const token = this.peek();
    if (this.position < this.tokens.length) this.position++;
    return token;
  }

  private fail(found: Token, expected: string): never {
    throw new LabelSelectorParseError(`unable to parse requirement: found '${describe(found)}', expected: ${expected}`);
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    if (this.peek().kind === "end") return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const token = this.next();
      if (token.kind === "end") return requirements;
      if (token.kind !== ",") this.fail(token, "',' or 'end of string'");
      if (this.peek().kind === "end") this.fail(this.peek(), "identifier");
    }
  }

  private requirement(): LabelRequirement {
    let token = this.next();
    if (token.kind === "!") {
      token = this.next();
      if (token.kind !== "identifier") this.fail(token, "identifier");
      return newRequirement(token.text, "!", []);
    }
    if (token.kind !== "identifier") this.fail(token, "identifier or '!'");
    const key = token.text;
    const operator = this.peek();
    switch (operator.kind) {
      case "end":
      case ",":
        return newRequirement(key, "exists", []);
      case "=":
      case "==":
      case "!=": {
        this.next();
        const value = this.peek();
        if (value.kind === "identifier" || value.kind === "in" || value.kind === "notin") {
          this.next();
          return newRequirement(key, operator.kind, [value.text]);
        }
        if (value.kind === "end" || value.kind === ",") return newRequirement(key, operator.kind, [""]);
        return this.fail(value, "identifier");
      }
      case ">":
      case "<": {
        this.next();
        const value = this.next();
        if (value.kind !== "identifier") this.fail(value, "integer");
        return newRequirement(key, operator.kind === ">" ? "gt" : "lt", [value.text]);
      }
      case "in":
      case "notin": {
        this.next();
        const open = this.next();
        if (open.kind !== "(") this.fail(open, "'('");
        return newRequirement(key, operator.kind, this.valueList());
      }
      default:
        return this.fail(operator, "'=', '!=', '==', 'in', 'notin'");
    }
  }

  /** `a, b, c)`: empty entries are empty-string values, as in Kubernetes ("in (a,)"). */
  private valueList(): string[] {
    const values: string[] = [];
    let expectValue = true;
    for (;;) {
      const token = this.next();
      if (token.kind === ")") {
        if (expectValue && values.length > 0) values.push("");
        return values;
      }
      if (token.kind === ",") {
        if (expectValue) values.push("");
        expectValue = true;
        continue;
      }
      if ((token.kind === "identifier" || token.kind === "in" || token.kind === "notin") && expectValue) {
        values.push(token.text);
        expectValue = false;
        continue;
      }
      this.fail(token, "',', ')' or identifier");
    }
  }
}

/** Parses a `?labelSelector=` string. Throws LabelSelectorParseError with Kubernetes-like wording. */
export function parseLabelSelector(text: string): Selector {
  return new Selector(new Parser(lex(text)).parse());
}

/** A selector requiring every label of `set` (labels.SelectorFromSet), e.g. a Service's selector. */
export function selectorFromSet(set: Readonly<Record<string, string>> | undefined): Selector {
  return new Selector(Object.entries(set ?? {}).map(([key, value]) => ({ key, operator: "=" as const, values: [value] })));
}

const operatorOfExpression: Record<LabelSelectorRequirement["operator"], LabelOperator> = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" };

/**
 * metav1.LabelSelectorAsSelector: an undefined/null selector matches nothing, an empty one
 * matches everything. Throws LabelSelectorParseError if the selector is malformed.
 */
export function labelSelectorToSelector(selector: LabelSelector | null | undefined): Selector {
  if (selector === null || selector === undefined) return Selector.nothing();
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) requirements.push(newRequirement(key, "=", [value]));
  for (const expression of selector.matchExpressions ?? []) {
    const operator = operatorOfExpression[expression.operator];
    if (operator === undefined) throw new LabelSelectorParseError(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
    requirements.push(newRequirement(expression.key, operator, expression.values ?? []));
  }
  return new Selector(requirements);
}

/** metav1.FormatLabelSelector: the selector's text, or "<none>" when it has none. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  try {
    const text = labelSelectorToSelector(selector).toString();
    return text === "" ? "<none>" : text;
  } catch {
    return "<error>";
  }
}

/** Does `labels` satisfy the structured selector? (nil matches nothing, {} everything.) */
export function labelSelectorMatches(selector: LabelSelector | null | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  return labelSelectorToSelector(selector).matches(labels);
}
