import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Entry } from "../core/types.js";
import { LogReplay, ReplayError } from "./replay.js";

const e = (index: number, term: number): Entry => ({ index, term, type: 0, data: new Uint8Array(0) });
const run = (first: number, last: number, term: number): Entry[] => Array.from({ length: last - first + 1 }, (_, k) => e(first + k, term));
const show = (ents: Entry[] | null): string | null => (ents === null ? null : ents.map((x) => `${x.index}@${x.term}`).join(" "));

function replay(fromStart: boolean, steps: Array<Entry[] | { marker: [number, number] }>): LogReplay {
  const r = new LogReplay(fromStart);
  for (const step of steps) {
    if (Array.isArray(step)) for (const x of step) r.entry(x);
    else r.marker({ index: step.marker[0], term: step.marker[1] });
  }
  return r;
}

describe("LogReplay", () => {
  test("a later append at index i discards the old entries from i on", () => {
    const r = replay(true, [run(1, 6, 1), run(4, 5, 2)]);
    assert.equal(show(r.entriesAfter(null)), "1@1 2@1 3@1 4@2 5@2");
  });

  test("an entry that leaves a gap is refused", () => {
    const r = replay(true, [run(1, 3, 1)]);
    assert.throws(() => r.entry(e(5, 1)), ReplayError);
    assert.throws(() => new LogReplay(true).entry(e(2, 1)), ReplayError);
  });

  test("a local snapshot marker keeps the entries after it", () => {
    const r = replay(true, [run(1, 10, 1), { marker: [6, 1] }, run(11, 12, 1)]);
    assert.equal(show(r.entriesAfter({ index: 6, term: 1 })), "7@1 8@1 9@1 10@1 11@1 12@1");
    assert.equal(show(r.entriesAfter(null)), show(run(1, 12, 1)));
  });

  test("a leader's snapshot that does not match the log replaces it", () => {
    const r = replay(true, [run(1, 10, 1), { marker: [8, 3] }, run(9, 9, 3)]);
    assert.equal(show(r.entriesAfter({ index: 8, term: 3 })), "9@3");
    assert.equal(r.entriesAfter(null), null);
    // Entries at or below the snapshot after it are covered by it.
    r.entry(e(5, 3));
    assert.equal(show(r.entriesAfter({ index: 8, term: 3 })), "9@3");
  });

  test("a leader's snapshot beyond the log replaces it", () => {
    const r = replay(true, [run(1, 3, 1), { marker: [50, 2] }, run(51, 52, 2)]);
    assert.equal(show(r.entriesAfter({ index: 50, term: 2 })), "51@2 52@2");
  });

  test("after a release, segment heads repeating an old marker do not disturb the entries", () => {
    // The oldest kept segment starts with the marker at 10 (its entry was released), then entries
    // from 101, another head repeating marker 10, then the snapshot at 150.
    const r = replay(false, [{ marker: [10, 1] }, run(101, 200, 1), { marker: [10, 1] }, run(201, 220, 1), { marker: [150, 1] }]);
    assert.equal(show(r.entriesAfter({ index: 150, term: 1 })), show(run(151, 220, 1)));
    assert.equal(r.entriesAfter({ index: 10, term: 1 }), null, "entries 11..100 are gone");
    assert.equal(r.entriesAfter(null), null);
  });

  test("after a release, a marker just before the oldest kept entry is usable", () => {
    const r = replay(false, [{ marker: [100, 1] }, run(101, 120, 2)]);
    assert.equal(show(r.entriesAfter({ index: 100, term: 1 })), show(run(101, 120, 2)));
    assert.equal(r.entriesAfter({ index: 99, term: 1 }), null, "a marker never seen is not trusted");
  });

  test("an overwrite below the oldest kept entry starts the run again", () => {
    const r = replay(false, [run(101, 110, 1), run(95, 96, 2), { marker: [96, 2] }]);
    assert.equal(show(r.entriesAfter({ index: 96, term: 2 })), "");
    assert.equal(r.lastIndex(), 96);
  });
});
