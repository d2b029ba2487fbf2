// The shared draft's merge on the page (static/previews/desk.js): someone else's save is taken in, and this
// reviewer's unsaved fields and the save on its way are kept over it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fieldValue, setField, SharedDraft } from "../../static/previews/desk.js";

const draft = (adjustments = {}) => ({ number: 0, adjustments: { text_scale: 1, timing_offset: 0, text_edits: {},
  colors: {}, caption_edits: {}, layer_scale: {}, backgrounds: {}, ...adjustments } });

test("fields are read and set by their dotted names", () => {
  const adjustments = draft().adjustments;
  setField(adjustments, "text_edits.s2.title", "BILLS BY 3");  // a layer id may hold a dot
  setField(adjustments, "text_scale", 1.2);
  assert.equal(fieldValue(adjustments, "text_edits.s2.title"), "BILLS BY 3");
  setField(adjustments, "text_edits.s2.title", null);
  setField(adjustments, "text_scale", null);
  assert.deepEqual(adjustments.text_edits, {});
  assert.equal(adjustments.text_scale, 1);
});

test("someone else's save is taken in, keeping what this reviewer has not saved yet", () => {
  const notes = [];
  let redrawn = 0;
  const shared = new SharedDraft({ url: "/x", draft: draft(), me: "alice", notice: (text) => notes.push(text),
    onRemote: () => { redrawn += 1; } });
  const held = shared.adjustments;
  setField(shared.adjustments, "colors.hook", "#FFFFFF");
  shared.pending.add("colors.hook");
  shared.inflight = { "text_edits.hook": "MINE ON ITS WAY" };
  clearTimeout(shared.timer);
  shared.receive({ number: 3, by: "bob", fields: ["text_scale", "text_edits.hook"], changes: ["All text size 100 % → 130 %"],
    overwrote: [], adjustments: draft({ text_scale: 1.3, text_edits: { hook: "BOB'S" } }).adjustments });
  assert.equal(shared.adjustments, held);  // the same object: the page's other parts hold it
  assert.equal(shared.adjustments.text_scale, 1.3);
  assert.equal(shared.adjustments.colors.hook, "#FFFFFF");
  assert.equal(shared.adjustments.text_edits.hook, "MINE ON ITS WAY");
  assert.equal(shared.seen, 3);
  assert.equal(redrawn, 1);
  assert.match(notes.at(-1), /^bob: All text size/);
});

test("this reviewer's own save arriving as an event is the server's draft: taken in silently; an older one is ignored", () => {
  let redrawn = 0;
  const notes = [];
  const shared = new SharedDraft({ url: "/x", draft: { ...draft(), number: 5 }, me: "alice", notice: (text) => notes.push(text),
    onRemote: () => { redrawn += 1; } });
  shared.receive({ number: 4, by: "bob", fields: [], adjustments: draft({ text_scale: 2 }).adjustments });
  assert.equal(shared.adjustments.text_scale, 1);
  shared.receive({ number: 6, by: "alice", fields: ["text_scale"], adjustments: draft({ text_scale: 1.5 }).adjustments });
  assert.equal(shared.seen, 6);
  assert.equal(shared.adjustments.text_scale, 1.5);
  assert.equal(redrawn, 1);
  assert.deepEqual(notes, []);
});

test("being told a field of mine was replaced says so", () => {
  const notes = [];
  const shared = new SharedDraft({ url: "/x", draft: draft(), me: "alice", notice: (text, warn) => notes.push([text, warn]),
    onRemote: () => {} });
  shared.receive({ number: 1, by: "bob", fields: ["text_scale"], changes: [], overwrote: [{ field: "text_scale", by: "alice" }],
    adjustments: draft({ text_scale: 0.9 }).adjustments });
  assert.deepEqual(notes.at(-1), ["bob: saved the draft — replacing your text_scale.", true]);
});
