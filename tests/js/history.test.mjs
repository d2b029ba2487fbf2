// Undo and redo of a reviewer's own changes (static/previews/desk.js History): one step per field changed,
// typing in one field one step, someone else's change kept, and any order of changes, undos and redos ending
// where the steps say.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fieldValue, History, setField } from "../../static/previews/desk.js";

const fresh = () => ({ text_scale: 1, timing_offset: 0, text_edits: {}, colors: {}, caption_edits: {},
  captions_off: {}, post_caption: "", post_hashtags: "" });

function change(history, adjustments, field, value, at) {
  setField(adjustments, field, value);
  history.record(field, at);
}

test("each change is undone and redone in turn; typing in one field is one step", () => {
  const a = fresh();
  const h = new History(a);
  change(h, a, "text_scale", 1.2, 0);
  change(h, a, "text_edits.hook", "T", 10_000);
  change(h, a, "text_edits.hook", "TA", 10_200);
  change(h, a, "text_edits.hook", "TAKE", 10_400);
  change(h, a, "captions_off.prop_1", true, 20_000);
  assert.equal(h.undos.length, 3);
  assert.equal(h.undo(), "captions_off.prop_1");
  assert.deepEqual(a.captions_off, {});
  assert.equal(h.undo(), "text_edits.hook");
  assert.deepEqual(a.text_edits, {});
  assert.equal(h.redo(), "text_edits.hook");
  assert.equal(a.text_edits.hook, "TAKE");
  assert.equal(h.undo(), "text_edits.hook");
  assert.equal(h.undo(), "text_scale");
  assert.equal(a.text_scale, 1);
  assert.equal(h.undo(), null);
  // a new change after undoing drops what could be redone
  change(h, a, "colors.hook", "#FFFFFF", 30_000);
  assert.equal(h.redo(), null);
});

test("someone else's change is kept: undo puts back only this reviewer's field", () => {
  const a = fresh();
  const h = new History(a);
  change(h, a, "text_scale", 1.3, 0);
  setField(a, "post_caption", "bob's words");  // arrived in a draft from bob
  h.rebase();
  assert.equal(h.undo(), "text_scale");
  assert.equal(a.text_scale, 1);
  assert.equal(a.post_caption, "bob's words");
});

test("any interleaving of changes, undos and redos ends where replaying the kept steps ends", () => {
  const fields = ["text_scale", "text_edits.hook", "colors.hook", "captions_off.s2"];
  const values = { text_scale: [1.1, 1.4, 0.8], "text_edits.hook": ["A", "AB", undefined], "colors.hook": ["#FFFFFF", "#000000"],
    "captions_off.s2": [true, undefined] };
  let seed = 7;
  const random = (n) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let round = 0; round < 300; round++) {
    const a = fresh();
    const h = new History(a);
    const states = [structuredClone(a)];  // what each undo depth shows
    let depth = 0;
    for (let i = 0; i < 12; i++) {
      const what = random(3);
      if (what === 0) {
        const field = fields[random(fields.length)];
        const options = values[field];
        change(h, a, field, options[random(options.length)], i * 10_000);
        // setting a field to what it holds is no change (and keeps what could be redone)
        if (JSON.stringify(a) !== JSON.stringify(states[depth])) {
          states.length = depth + 1;
          states.push(structuredClone(a));
          depth += 1;
        }
      } else if (what === 1 && h.undo() !== null) depth -= 1;
      else if (what === 2 && h.redo() !== null) depth += 1;
      assert.deepEqual(a, states[depth], `round ${round}, step ${i}`);
      assert.equal(h.undos.length, depth);
    }
  }
});

test("a field read back after undo is the plan as built", () => {
  const a = fresh();
  const h = new History(a);
  change(h, a, "post_hashtags", "#Bills", 0);
  h.undo();
  assert.equal(fieldValue(a, "post_hashtags"), "");
});
