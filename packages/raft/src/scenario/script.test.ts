import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ScriptParseError, ScriptRunError, diffLines, parseScript, renderScript, runScript } from "./script.js";

describe("scenario script files", () => {
  it("parse into comments, commands and their expected output, and render back unchanged", () => {
    const text = "# a story\n\n> cluster 3\n> status 1\n1: follower\n\n# the end\n";
    const lines = parseScript(text);
    assert.deepEqual(lines, [
      { kind: "text", text: "# a story" },
      { kind: "text", text: "" },
      { kind: "command", lineNumber: 3, command: "cluster 3", expected: [] },
      { kind: "command", lineNumber: 4, command: "status 1", expected: ["1: follower"] },
      { kind: "text", text: "" },
      { kind: "text", text: "# the end" },
    ]);
    assert.equal(renderScript(lines), text);
  });

  it("refuses a stray line outside any command's output", () => {
    assert.throws(() => parseScript("# story\nstray\n"), ScriptParseError);
  });

  it("replaces expected output with what the cluster printed", () => {
    const actual = runScript("> cluster 1\n> campaign 1\n> stabilize\nwrong\n");
    assert.equal(actual, "> cluster 1\n> campaign 1\n> stabilize\n1 became leader at term 2\n1 applied 2:(empty)\n");
  });

  it("names the script line of a failing command", () => {
    assert.throws(
      () => runScript("> cluster 3\n\n> frobnicate 1\n"),
      (err: unknown) => err instanceof ScriptRunError && err.message.startsWith("line 3: > frobnicate 1"),
    );
  });

  it("diffs expected and actual text with line numbers", () => {
    const diff = diffLines("a\nb\nc", "a\nB\nc");
    assert.equal(diff, "@@ expected line 1, actual line 1 @@\n a\n-b\n+B\n c");
  });
});
