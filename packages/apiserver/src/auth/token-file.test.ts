import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { parseCsv, StaticTokenAuthenticator, TokenFileError } from "./token-file.js";

describe("CSV records as Go's encoding/csv reads them", () => {
  it("splits plain fields on commas and lines on newlines", () => {
    assert.deepEqual(parseCsv("a,b,c\nd,e,f\n"), [
      ["a", "b", "c"],
      ["d", "e", "f"],
    ]);
  });

  it("keeps commas, newlines and doubled quotes inside quoted fields", () => {
    assert.deepEqual(parseCsv('t,u,1,"g1,g2"\nx,"multi\nline","say ""hi"""\n'), [
      ["t", "u", "1", "g1,g2"],
      ["x", "multi\nline", 'say "hi"'],
    ]);
  });

  it("skips blank lines and accepts CRLF line ends and a missing final newline", () => {
    assert.deepEqual(parseCsv("\r\na,b\r\n\r\nc,d"), [
      ["a", "b"],
      ["c", "d"],
    ]);
  });

  it("keeps empty fields and leading spaces", () => {
    assert.deepEqual(parseCsv(",b, c,\n"), [["", "b", " c", ""]]);
  });

  it("refuses a bare quote inside an unquoted field", () => {
    assert.throws(() => parseCsv('ab"c,d\n'), /bare " in non-quoted-field/);
  });

  it("refuses an unterminated quoted field", () => {
    assert.throws(() => parseCsv('"abc,d\n'), /extraneous or missing " in quoted-field/);
  });

  it("refuses text after a closing quote", () => {
    assert.throws(() => parseCsv('"abc"x,d\n'), /extraneous or missing " in quoted-field/);
  });
});

describe("static token file", () => {
  it("maps each token to its user, uid and groups", () => {
    const tokens = StaticTokenAuthenticator.fromCsv('token1,alice,uid-1,"dev,ops"\ntoken2,bob,uid-2\n');
    assert.deepEqual(tokens.authenticate("token1"), { name: "alice", uid: "uid-1", groups: ["dev", "ops"], extra: {} });
    assert.deepEqual(tokens.authenticate("token2"), { name: "bob", uid: "uid-2", groups: [], extra: {} });
    assert.equal(tokens.authenticate("token3"), undefined);
    assert.equal(tokens.size, 2);
  });

  it("takes a single unquoted group in the fourth column and ignores further columns", () => {
    const tokens = StaticTokenAuthenticator.fromCsv("t,carol,3,admins,extra-column\n");
    assert.deepEqual(tokens.authenticate("t")?.groups, ["admins"]);
  });

  it("refuses a record with fewer than three columns, as Kubernetes does", () => {
    assert.throws(
      () => StaticTokenAuthenticator.fromCsv("token,alice\n", "/etc/tokens.csv"),
      (error: unknown) =>
        error instanceof TokenFileError && error.message === "token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user uid), found 2",
    );
  });

  it("skips a record with an empty token", () => {
    const tokens = StaticTokenAuthenticator.fromCsv(",nobody,0\nt,alice,1\n");
    assert.equal(tokens.size, 1);
    assert.equal(tokens.authenticate(""), undefined);
  });

  it("lets a later duplicate token win", () => {
    const tokens = StaticTokenAuthenticator.fromCsv("t,first,1\nt,second,2\n");
    assert.equal(tokens.authenticate("t")?.name, "second");
  });

  it("hands out copies, so a caller cannot change the table", () => {
    const tokens = StaticTokenAuthenticator.fromCsv('t,alice,1,"a,b"\n');
    tokens.authenticate("t")?.groups.push("system:masters");
    assert.deepEqual(tokens.authenticate("t")?.groups, ["a", "b"]);
  });

  it("reads a file from disk", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "coxswain-tokens-"));
    try {
      const file = path.join(dir, "tokens.csv");
      await fs.writeFile(file, 'abc123,admin,admin-uid,"system:masters"\n');
      const tokens = await StaticTokenAuthenticator.fromFile(file);
      assert.deepEqual(tokens.authenticate("abc123")?.groups, ["system:masters"]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
