/**
 * The static token file (`--token-auth-file`), read as Kubernetes reads it
 * (k8s.io/apiserver/plugin/pkg/authenticator/token/tokenfile): CSV, one token a line,
 * `token,user,uid[,"group1,group2"]`. At least three columns; a record with an empty token is
 * skipped; a later duplicate token wins; the fourth column is split on commas into groups.
 */
import * as fs from "node:fs/promises";
import type { UserInfo } from "./user.js";

/** A token file Kubernetes would refuse to start with. */
export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
}

/** The largest token file read, so a wrong path (a disk image, /dev/zero) fails fast instead of filling memory. */
export const tokenFileSizeBytesMax = 16 * 1024 * 1024;

/**
 * Split CSV text into records as Go's encoding/csv does with its defaults: fields separated by
 * commas, double-quoted fields may hold commas, newlines and `""` for a quote, blank lines are
 * skipped, a bare quote inside an unquoted field is an error, and `\r\n` ends a line like `\n`.
 */
export function parseCsv(text: string, sourceName = "csv"): string[][] {
  const records: string[][] = [];
  let line = 1;
  let position = 0;
  while (position < text.length) {
    // encoding/csv skips empty lines.
    if (text[position] === "\n") {
      position++;
      line++;
      continue;
    }
    if (text[position] === "\r" && text[position + 1] === "\n") {
      position += 2;
      line++;
      continue;
    }
    const record: string[] = [];
    const recordLine = line;
    for (;;) {
      let field = "";
      if (text[position] === '"') {
        position++;
        for (;;) {
          if (position >= text.length) throw new TokenFileError(`${sourceName}: record on line ${recordLine}: extraneous or missing " in quoted-field`);
          const c = text[position];
          if (c === '"') {
            if (text[position + 1] === '"') {
              field += '"';
              position += 2;
              continue;
            }
            position++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          position++;
        }
        const next = text[position];
        if (next !== undefined && next !== "," && next !== "\n" && !(next === "\r" && text[position + 1] === "\n")) {
          throw new TokenFileError(`${sourceName}: record on line ${line}: extraneous or missing " in quoted-field`);
        }
      } else {
        while (position < text.length && text[position] !== "," && text[position] !== "\n") {
          if (text[position] === "\r" && text[position + 1] === "\n") break;
          if (text[position] === '"') throw new TokenFileError(`${sourceName}: record on line ${line}: bare " in non-quoted-field`);
          field += text[position];
          position++;
        }
      }
      record.push(field);
      if (text[position] === ",") {
        position++;
        continue;
      }
      if (text[position] === "\r") position++;
      if (text[position] === "\n") {
        position++;
        line++;
      }
      break;
    }
    records.push(record);
  }
  return records;
}

/** Tokens from a static token file, each with the user it authenticates. */
export class StaticTokenAuthenticator {
  private readonly usersByToken: ReadonlyMap<string, UserInfo>;

  private constructor(usersByToken: Map<string, UserInfo>) {
    this.usersByToken = usersByToken;
  }

  /** Parse token file text. `sourceName` (the path) appears in errors. */
  static fromCsv(text: string, sourceName = "token file"): StaticTokenAuthenticator {
    const usersByToken = new Map<string, UserInfo>();
    for (const record of parseCsv(text, sourceName)) {
      if (record.length < 3) {
        throw new TokenFileError(`token file '${sourceName}' must have at least 3 columns (token, user name, user uid), found ${record.length}`);
      }
      const [token = "", name = "", uid = "", groups] = record;
      if (token === "") continue; // Kubernetes warns and skips an empty token.
      usersByToken.set(token, { name, uid, groups: groups === undefined ? [] : groups.split(","), extra: {} });
    }
    return new StaticTokenAuthenticator(usersByToken);
  }

  static async fromFile(file: string): Promise<StaticTokenAuthenticator> {
    const stat = await fs.stat(file);
    if (stat.size > tokenFileSizeBytesMax)
      throw new TokenFileError(`token file '${file}' is ${stat.size} bytes, more than the ${tokenFileSizeBytesMax} allowed`);
    return StaticTokenAuthenticator.fromCsv(await fs.readFile(file, "utf8"), file);
  }

  get size(): number {
    return this.usersByToken.size;
  }

  /** The token's user (a copy), or undefined when the file does not list it. */
  authenticate(token: string): UserInfo | undefined {
    const user = this.usersByToken.get(token);
    if (user === undefined) return undefined;
    return { name: user.name, uid: user.uid, groups: [...user.groups], extra: {} };
  }
}
