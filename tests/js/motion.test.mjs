// static/previews/motion.js held to pipeline/motion.py, formula by formula: the table of Python's values
// (tests/js/motion_table.py, path in MOTION_TABLE) evaluated again here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  captionState, countText, ease, kenburnsView, layerState, transitionAt, transitionLook,
} from "../../static/previews/motion.js";

const table = JSON.parse(readFileSync(process.env.MOTION_TABLE, "utf8"));
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);

test("every easing at every moment", () => {
  assert.ok(table.easings.length > 100);
  for (const row of table.easings) close(ease(row.name, row.p), row.value, `${row.name}(${row.p})`);
});

test("every entrance and exit, with every easing, at every moment", () => {
  assert.ok(table.layers.length > 1000);
  for (const row of table.layers) {
    const state = layerState(row.layer, row.t);
    for (const key of ["alpha", "dx", "dy", "scale", "sx", "sy"]) {
      close(state[key], row.state[key], `${row.layer.motion.enter}/${row.layer.motion.easing} ${key} at ${row.t}`);
    }
  }
});

test("every Ken Burns case at every moment", () => {
  assert.ok(table.kenburns.length > 100);
  for (const row of table.kenburns) {
    const view = kenburnsView(row.background, row.scene, row.t, row.image, row.out);
    view.forEach((value, i) => close(value, row.view[i], `view[${i}] at ${row.t}`));
  }
});

test("which caption group and word are up at every moment", () => {
  assert.ok(table.captions.length > 40);
  for (const row of table.captions) assert.deepEqual(captionState(row.layer, row.t), row.state, `at ${row.t}`);
});

test("which transition runs at every moment, and how far it is", () => {
  assert.ok(table.transitions.some((row) => row.at !== null));
  for (const row of table.transitions) {
    const moving = transitionAt(table.scenes, row.t);
    if (row.at === null) assert.equal(moving, null, `at ${row.t}`);
    else {
      assert.equal(moving[0].id, row.at[0], `at ${row.t}`);
      close(moving[1], row.at[1], `progress at ${row.t}`);
    }
  }
});

test("every transition's look at every moment (the push's rows exactly)", () => {
  assert.ok(table.looks.length > 100);
  for (const row of table.looks) {
    const look = transitionLook(row.kind, row.p, row.height);
    look.forEach((value, i) => close(value, row.look[i], `${row.kind}[${i}] at ${row.p}, ${row.height} tall`));
  }
});

test("every counter's digits at every moment", () => {
  assert.ok(table.counts.some((row) => row.text !== null && row.text !== row.layer.count.number));
  for (const row of table.counts) assert.equal(countText(row.layer, row.t), row.text, `${row.layer.count.number} at ${row.t}`);
});
