// The desk on one job together: who else has it open, the shared draft, and comments pinned to a moment.
// The server merges drafts (last write wins, field by field) and says whose change a save replaced; this
// module only sends the fields this reviewer changed and takes in everyone else's.
import { describeErrors, getJSON, postJSON } from "./api.js";

// A field is "text_scale", "timing_offset", or one entry of a per-layer map: "text_edits.<layer id>".
const DEFAULTS = { text_scale: 1, timing_offset: 0, post_caption: "", post_hashtags: "" };

export function fieldValue(adjustments, field) {
  const dot = field.indexOf(".");
  if (dot < 0) return adjustments[field];
  return adjustments[field.slice(0, dot)]?.[field.slice(dot + 1)];
}

export function setField(adjustments, field, value) {
  const dot = field.indexOf(".");
  if (dot < 0) { adjustments[field] = value ?? DEFAULTS[field]; return; }
  const map = (adjustments[field.slice(0, dot)] ||= {});
  if (value === undefined || value === null) delete map[field.slice(dot + 1)];
  else map[field.slice(dot + 1)] = value;
}

export function showPresence(box, viewers, me) {
  box.replaceChildren(...viewers.filter((name) => name !== me).map((name) => {
    const chip = document.createElement("span");
    chip.className = "viewer";
    chip.textContent = name;
    chip.title = `${name} has this job open`;
    return chip;
  }));
}

const SAVE_AFTER_MS = 700;

// The reviewer's adjustments, kept in step with the job's shared draft: the server's draft is the truth. `seen` is
// the number of the draft whose contents the page holds (drafts are cumulative: draft N holds every save up to
// N), and `adjustments` is that draft with this reviewer's unsaved fields and the save on its way on top. A
// save's answer is the merged draft, adopted like anyone else's; an event for a draft at or below `seen` is
// already in what the page holds.
export class SharedDraft {
  constructor({ url, draft, me, onRemote, notice }) {
    this.url = url;
    this.me = me;
    this.seen = draft.number;
    this.base = structuredClone(draft.adjustments);  // the server's draft number `seen`, as it holds it
    this.adjustments = structuredClone(draft.adjustments);
    this.pending = new Set();
    this.inflight = {};  // the fields of the save on its way, with the values sent
    this.onRemote = onRemote;
    this.notice = notice;
    this.timer = 0;
    this.saving = Promise.resolve();
  }

  // This reviewer changed a field: save it (with the others changed meanwhile) once typing pauses.
  touch(field) {
    this.pending.add(field);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), SAVE_AFTER_MS);
  }

  async flush() {
    clearTimeout(this.timer);
    await this.saving;
    if (!this.pending.size) return true;
    const fields = [...this.pending];
    this.pending.clear();
    const changes = Object.fromEntries(fields.map((field) => [field, fieldValue(this.adjustments, field) ?? null]));
    let saved = false;
    this.inflight = changes;
    this.saving = (async () => {
      const { ok, data } = await postJSON(this.url, { changes, seen: this.seen });
      this.inflight = {};
      if (!ok) {
        // Refused (a wording that does not fit, say): the page goes back to the server's draft, keeping only
        // what was changed since, so it never shows what nobody else can see.
        this.notice(`Not saved: ${describeErrors(data)}`, true);
        if (this.adopt({ number: this.seen, adjustments: this.base })) this.onRemote(this.adjustments);
        return;
      }
      saved = true;
      if (data.draft.number > this.seen && this.adopt(data.draft)) this.onRemote(this.adjustments);
      const replaced = data.overwrote.map((o) => `${o.by}'s ${o.field}`);
      this.notice(replaced.length ? `Saved as draft ${data.draft.number}, replacing ${replaced.join(", ")}.`
        : `Saved as draft ${data.draft.number}.`);
    })();
    await this.saving;
    return saved;
  }

  // Take in a draft newer than the one the page holds: its adjustments, with what this reviewer changed and the
  // server may not have merged yet (unsaved fields, and the save on its way) on top. True when anything shown
  // changed.
  adopt(draft) {
    this.seen = draft.number;
    this.base = structuredClone(draft.adjustments);
    const mine = [...Object.entries(this.inflight), ...[...this.pending].map((field) => [field, fieldValue(this.adjustments, field)])];
    const before = JSON.stringify(this.adjustments);
    // In place: the page's other parts hold this object.
    for (const key of Object.keys(this.adjustments)) delete this.adjustments[key];
    Object.assign(this.adjustments, structuredClone(draft.adjustments));
    for (const [field, value] of mine) setField(this.adjustments, field, value);
    return JSON.stringify(this.adjustments) !== before;
  }

  // The server's draft as it is now (after a refused approval, or when events may have been missed).
  async refresh(url) {
    const { ok, data } = await getJSON(url);
    if (ok && data.draft && data.draft.number > this.seen && this.adopt(data.draft)) this.onRemote(this.adjustments);
  }

  // A draft.saved event: a newer draft than the page holds is taken in, whoever saved it.
  receive(payload) {
    if (payload.number <= this.seen) return;
    const changed = this.adopt(payload);
    // This reviewer's own save needs no word (its answer said it); anyone's rollback and others' saves do.
    if (payload.by === this.me && !payload.rollback) {
      if (changed) this.onRemote(this.adjustments);
      return;
    }
    const lost = (payload.overwrote || []).filter((o) => o.by === this.me).map((o) => o.field);
    const what = payload.rollback ? `rolled back to ${payload.rollback}` : (payload.changes || []).join("; ") || "saved the draft";
    this.notice(`${payload.by}: ${what}${lost.length ? ` — replacing your ${lost.join(", ")}` : ""}.`, lost.length > 0);
    this.onRemote(this.adjustments);
  }
}

// Undo and redo of this reviewer's own changes, through the shared draft: a step puts one field back to what it
// was before the change (and is saved like any change, so everyone sees it). Typing in one field is one step
// while the keys keep coming (COALESCE_MS apart). Someone else's change is not undone: it becomes what this
// reviewer's next step starts from.
const COALESCE_MS = 1500;

export class History {
  constructor(adjustments) {
    this.adjustments = adjustments;
    this.seen = structuredClone(adjustments);
    this.undos = [];
    this.redos = [];
  }

  record(field, now = Date.now()) {
    const before = fieldValue(this.seen, field), after = fieldValue(this.adjustments, field);
    setField(this.seen, field, structuredClone(after));
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    const top = this.undos.at(-1);
    if (top && top.field === field && now - top.at < COALESCE_MS) Object.assign(top, { after, at: now });
    else this.undos.push({ field, before, after, at: now });
    this.redos = [];
  }

  rebase() { this.seen = structuredClone(this.adjustments); }

  // The field a step changed, or null when there is none to take.
  undo() { return this.step(this.undos, this.redos, "before"); }

  redo() { return this.step(this.redos, this.undos, "after"); }

  step(from, to, side) {
    const step = from.pop();
    if (!step) return null;
    setField(this.adjustments, step.field, structuredClone(step[side]));
    setField(this.seen, step.field, structuredClone(step[side]));
    to.push({ ...step, at: 0 });  // a step taken back is never merged with the next typing
    return step.field;
  }
}

function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${String(minutes).padStart(2, "0")}:${(seconds - minutes * 60).toFixed(1).padStart(4, "0")}`;
}

// Comments pinned to a moment and a layer: the list, the form, and dots on the scrubber.
export class Comments {
  constructor({ url, list, form, marks, me, now, seek }) {
    Object.assign(this, { url, list, form, marks, me, now, seek });
    this.items = new Map();
    this.duration = 0;
    form.addEventListener("submit", (e) => { e.preventDefault(); this.add(); });
  }

  async load(plan) {
    if (plan) this.setPlan(plan);
    const { ok, data } = await getJSON(this.url);
    if (ok) for (const comment of data.comments) this.items.set(comment.id, comment);
    this.draw();
  }

  setPlan(plan) {
    this.duration = plan.duration;
    const layers = [];
    for (const scene of plan.scenes) for (const layer of scene.layers) layers.push([layer.id, `${scene.id} · ${layer.role || layer.type}`]);
    for (const layer of plan.overlay) layers.push([layer.id, layer.role || layer.type]);
    const select = this.form.elements.layer;
    const keep = select.value;
    select.replaceChildren(new Option("the whole frame", ""), ...layers.map(([id, label]) => new Option(label, id, false, id === keep)));
  }

  async add() {
    const errors = this.form.querySelector("#comment-errors");
    const { ok, data } = await postJSON(this.url, { at_s: Math.round(this.now() * 100) / 100,
      layer: this.form.elements.layer.value, text: this.form.elements.text.value });
    if (!ok) { errors.textContent = describeErrors(data); return; }
    errors.textContent = "";
    this.form.elements.text.value = "";
    this.take(data.comment);
  }

  take(comment) { this.items.set(comment.id, comment); this.draw(); }

  async resolve(comment) {
    const { ok, data } = await postJSON(`${this.url}/${comment.id}/resolve`, {});
    if (ok) this.take(data.comment);
    else this.form.querySelector("#comment-errors").textContent = describeErrors(data);
  }

  draw() {
    const comments = [...this.items.values()].sort((a, b) => a.at_s - b.at_s || a.id - b.id);
    this.list.replaceChildren(...comments.map((comment) => {
      const li = document.createElement("li");
      li.dataset.comment = comment.id;
      li.classList.toggle("resolved", Boolean(comment.resolved_at));
      const at = Object.assign(document.createElement("time"), { textContent: (this.label || clock)(comment.at_s) });
      at.addEventListener("click", () => this.seek(comment.at_s));
      li.append(at, ` ${comment.layer ? `${comment.layer}: ` : ""}${comment.text} — ${comment.by}`);
      if (comment.resolved_at) li.append(` (resolved by ${comment.resolved_by})`);
      else {
        const button = Object.assign(document.createElement("button"), { type: "button", className: "link", textContent: "Resolve" });
        button.addEventListener("click", () => this.resolve(comment));
        li.append(" ", button);
      }
      return li;
    }));
    if (!this.marks || !this.duration) return;
    this.marks.replaceChildren(...comments.filter((c) => !c.resolved_at).map((comment) => {
      const dot = Object.assign(document.createElement("button"), { type: "button", title: `${clock(comment.at_s)} ${comment.text}` });
      dot.dataset.comment = comment.id;
      dot.style.left = `${(comment.at_s / this.duration) * 100}%`;
      dot.addEventListener("click", () => this.seek(comment.at_s));
      return dot;
    }));
  }
}

const SUGGEST_AFTER_MS = 900;

// Suggestions at review: the server's checks of the plan as this reviewer sees it, each with a one-click fix
// that goes into the draft like any other change (or first makes another picture for a scene).
export class Suggestions {
  constructor({ url, pictureUrl, list, state, note, adjustments, apply }) {
    Object.assign(this, { url, pictureUrl, list, state, note, adjustments, apply });
    this.timer = 0;
    this.asked = 0;
    this.shown = [];
  }

  soon() { clearTimeout(this.timer); this.timer = setTimeout(() => this.refresh(), SUGGEST_AFTER_MS); }

  async refresh() {
    const asked = ++this.asked;
    this.state.textContent = "checking…";
    const { ok, data } = await postJSON(this.url, { adjustments: this.adjustments() });
    if (asked !== this.asked) return;  // a newer change was checked meanwhile
    if (!ok) { this.state.textContent = describeErrors(data); return; }
    this.shown = data.suggestions;
    this.state.textContent = data.suggestions.length ? `${data.suggestions.length}` : "none: it looks right";
    this.note.textContent = data.critique.api ? (data.critique.note || `with ${data.critique.api}'s critique`) : data.critique.note;
    this.list.replaceChildren(...data.suggestions.map((item) => this.row(item)));
  }

  row(item) {
    const li = document.createElement("li");
    li.dataset.check = item.check;
    li.dataset.suggestion = item.id;
    li.append(Object.assign(document.createElement("span"), { className: `check check-${item.check}`, textContent: item.check }),
      ` ${item.message} `);
    if (item.fix) {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: item.fix.label });
      button.addEventListener("click", () => this.fix(item, button));
      li.append(button);
    }
    return li;
  }

  async fix(item, button) {
    button.disabled = true;
    let changes = item.fix.changes;
    if (item.fix.regenerate) {
      button.textContent = "Making another image…";
      const { ok, data } = await postJSON(this.pictureUrl, { scene: item.fix.regenerate });
      if (!ok) { button.textContent = describeErrors(data); return; }
      changes = data.changes;
    }
    this.apply(changes);
    this.soon();
  }
}
