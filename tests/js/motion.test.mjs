// static/previews/motion.js held to pipeline/motion.py, formula by formula: the table of Python's values
// (tests/js/motion_table.py, path in MOTION_TABLE) evaluated again here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { captionState, ease, kenburnsView, layerState } from "../../static/previews/motion.js";

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
    for (const key of ["alpha", "dx", "dy", "scale"]) {
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
