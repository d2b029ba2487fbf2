// A property of the shared draft on the page (static/previews/desk.js): whatever order saves, their answers and
// the job's events reach several reviewers' pages in, every page ends showing the server's draft, and says the
// number of it. The server here is a model of jobs/services/collaboration.py's merge (the newest draft, the
// saved fields set on it, last write wins; a refused save changes nothing). Schedules are drawn from a seeded
// generator, so a failure names the seed that reproduces it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { setField, SharedDraft } from "../../static/previews/desk.js";

const EMPTY = { text_scale: 1, timing_offset: 0, text_edits: {}, colors: {}, caption_edits: {}, layer_scale: {}, backgrounds: {} };
const FIELDS = {
  text_scale: [0.8, 1, 1.2, 1.35, null],
  timing_offset: [0, 0.25, -0.5, null],
  "text_edits.hook": ["BILLS BY 3", "SLEEP ON THIS", null],
  "text_edits.cta": ["TAP IN", null],
  "colors.hook": ["#FFD400", "#19E68C", null],
};
const NAMES = Object.keys(FIELDS);

function generator(seed) {
  let a = seed >>> 0;
  const next = () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return { below: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)], chance: (p) => next() < p };
}

class ModelServer {
  constructor() { this.drafts = [{ number: 0, adjustments: structuredClone(EMPTY) }]; this.pages = new Map(); }
  get newest() { return this.drafts.at(-1); }
  save(by, { changes }, refuse) {
    if (refuse) return { status: 400, body: { errors: { changes: ["that wording does not fit"] } } };
    const adjustments = structuredClone(this.newest.adjustments);
    for (const [field, value] of Object.entries(changes)) setField(adjustments, field, value);
    const draft = { number: this.newest.number + 1, adjustments, by, fields: Object.keys(changes) };
    this.drafts.push(draft);
    for (const page of this.pages.values()) page.events.push({ ...structuredClone(draft), overwrote: [], changes: [] });
    return { status: 200, body: { draft: structuredClone(draft), overwrote: [] } };
  }
}

const settle = async () => { for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve)); };

async function runSchedule(seed, steps = 40, reviewers = ["alice", "bob", "cleo"]) {
  const random = generator(seed);
  const server = new ModelServer();
  const requests = [];   // saves sent, not yet applied by the server
  const answers = [];    // saves applied, whose answer has not reached the page
  globalThis.document = { cookie: "" };
  globalThis.fetch = (url, options) => new Promise((resolve) => {
    requests.push({ by: url.split("/").at(-1), body: JSON.parse(options.body), resolve });
  });
  for (const name of reviewers) {
    const page = { events: [], flushes: [] };
    page.draft = new SharedDraft({ url: `/draft/${name}`, draft: structuredClone(server.newest), me: name,
      notice: () => {}, onRemote: () => {} });
    server.pages.set(name, page);
  }
  const pages = [...server.pages.values()];
  let unsettled = 0;
  const track = (page, promise) => { unsettled += 1; page.flushes.push(promise.finally(() => { unsettled -= 1; })); };
  const act = {
    edit: () => {
      const page = random.pick(pages);
      const field = random.pick(NAMES);
      setField(page.draft.adjustments, field, random.pick(FIELDS[field]));
      page.draft.pending.add(field);  // what touch() does, without its timer
    },
    flush: () => { const page = random.pick(pages); track(page, page.draft.flush()); },
    serve: () => {
      if (!requests.length) return;
      const request = requests.splice(random.below(requests.length), 1)[0];
      answers.push({ answer: server.save(request.by, request.body, random.chance(0.1)), resolve: request.resolve });
    },
    answer: () => {
      if (!answers.length) return;
      const { answer, resolve } = answers.splice(random.below(answers.length), 1)[0];
      resolve(new Response(JSON.stringify(answer.body), { status: answer.status }));
    },
    event: () => {
      const page = random.pick(pages);
      if (page.events.length) page.draft.receive(page.events.shift());  // a socket delivers in order
    },
  };
  const kinds = Object.keys(act);
  for (let step = 0; step < steps; step += 1) { act[random.pick(kinds)](); await settle(); }
  // Everyone stops typing: what is unsaved is saved, and everything on its way arrives.
  for (const page of pages) track(page, page.draft.flush());
  for (let round = 0; round < 500 && (unsettled || requests.length || answers.length || pages.some((p) => p.events.length)); round += 1) {
    while (requests.length) act.serve();
    while (answers.length) act.answer();
    await settle();
    for (const page of pages) while (page.events.length) page.draft.receive(page.events.shift());
    await settle();
  }
  await Promise.all(pages.flatMap((page) => page.flushes));
  return { server, pages };
}

test("every page converges to the server's draft, whatever order saves, answers and events arrive in", async () => {
  for (let seed = 1; seed <= 400; seed += 1) {
    const { server, pages } = await runSchedule(seed);
    for (const [name, page] of server.pages) {
      assert.equal(page.draft.pending.size, 0, `seed ${seed}: ${name} left something unsaved`);
      assert.equal(page.draft.seen, server.newest.number, `seed ${seed}: ${name} says draft ${page.draft.seen}`);
      assert.deepEqual(page.draft.adjustments, server.newest.adjustments, `seed ${seed}: ${name} shows another draft`);
    }
    assert.ok(pages.length === 3);
  }
});
