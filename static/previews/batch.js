// Batch review: a grid of first frames that play (scene by scene) on hover; act on several jobs at once.
import { describeErrors, getJSON, postJSON } from "./api.js";
import { LiveSocket } from "./socket.js";

const root = document.getElementById("batch");
const tiles = [...document.querySelectorAll(".tile")];
const status = document.getElementById("batch-status");
window.batch = { loaded: 0, acted: 0, undoSeconds: 5 };
let focus = 0;

async function loadFirst(tile) {
  const { ok, data } = await getJSON(`${tile.dataset.framesUrl}?first=1`);
  if (ok && data.frames.length) tile.querySelector("img").src = data.frames[0].src;
  window.batch.loaded += 1;
}

function playOnHover(tile) {
  let frames = null, timer = 0, index = 0;
  const img = tile.querySelector("img");
  tile.addEventListener("mouseenter", async () => {
    if (!frames) { const { ok, data } = await getJSON(tile.dataset.framesUrl); frames = ok ? data.frames : []; }
    clearInterval(timer);
    timer = setInterval(() => { if (frames.length) { index = (index + 1) % frames.length; img.src = frames[index].src; tile.dataset.playing = index; } }, 500);
  });
  tile.addEventListener("mouseleave", () => { clearInterval(timer); if (frames?.length) { index = 0; img.src = frames[0].src; } });
}

function selected() {
  const picked = tiles.filter((t) => t.querySelector("[data-select]").checked && !t.dataset.done);
  return picked.length ? picked : (tiles[focus] && !tiles[focus].dataset.done ? [tiles[focus]] : []);
}

// An action waits UNDO_S seconds before it is sent: `a` pressed on the wrong tile is taken back with Undo (or u,
// or Ctrl+Z), and nothing has reached the server. Leaving the page sends it, as asked.
const UNDO_S = 5;
let pending = null;
const undoBar = document.getElementById("batch-undo");

function ask(action) {
  const targets = selected();
  if (!targets.length) { status.textContent = "Select jobs first."; return; }
  let reason = "";
  if (action === "reject") { reason = prompt("Why are these rejected?") || ""; if (!reason.trim()) return; }
  if (pending) send();  // the one before goes now: one action waits at a time
  for (const tile of targets) { tile.dataset.pending = action; tile.querySelector("[data-select]").checked = false; }
  pending = { action, targets, reason, deadline: Date.now() + UNDO_S * 1000 };
  pending.timer = setInterval(() => (Date.now() >= pending.deadline ? send() : showPending()), 200);
  showPending();
}

const VERB = { approve: "Approving", skip: "Skipping the preview of", reject: "Rejecting" };

function showPending() {
  if (!pending) { undoBar.hidden = true; return; }
  const left = Math.max(0, Math.ceil((pending.deadline - Date.now()) / 1000));
  undoBar.hidden = false;
  undoBar.querySelector("[data-undo-text]").textContent =
    `${VERB[pending.action]} ${pending.targets.length} job${pending.targets.length === 1 ? "" : "s"} in ${left} s.`;
}

function undo() {
  if (!pending) return;
  clearInterval(pending.timer);
  for (const tile of pending.targets) delete tile.dataset.pending;
  status.textContent = `Undone: nothing was ${pending.action === "skip" ? "skipped" : `${pending.action}d`}.`;
  pending = null;
  showPending();
}

async function send({ leaving = false } = {}) {
  if (!pending) return;
  const { action, targets, reason, timer } = pending;
  clearInterval(timer);
  pending = null;
  showPending();
  status.textContent = `${VERB[action]} ${targets.length} job(s)…`;
  const { ok, data } = await postJSON(root.dataset.actionUrl, { action, jobs: targets.map((t) => t.dataset.job), reason },
    { keepalive: leaving });
  for (const tile of targets) delete tile.dataset.pending;
  if (!ok) { status.textContent = describeErrors(data); return; }
  let done = 0;
  for (const tile of targets) {
    const result = data.results[tile.dataset.job];
    if (result.ok) { tile.dataset.done = action; done += 1; follow(tile, result.status || ""); }
    else tile.querySelector("[data-result]").textContent = result.error;
  }
  window.batch.acted += done;
  status.textContent = `${done} of ${targets.length} done; their renders follow on the tiles.`;
}

// After the decision the tile stays, and follows its job (status over the studio socket) with a link to it.
const FOLLOW = { approved: "Approved: rendering soon", rendering: "Rendering…", scheduled: "Rendered, waiting for its slot",
  done: "Rendered", failed: "Failed: open it to see why", rejected: "Rejected", awaiting_review: "Waiting for review" };
function follow(tile, state) {
  if (!state) return;
  const result = tile.querySelector("[data-result]");
  result.replaceChildren(`${FOLLOW[state] || state} · `,
    Object.assign(document.createElement("a"), { href: tile.querySelector("a").getAttribute("href"), textContent: "open" }));
  tile.dataset.state = state;
}

function move(step) {
  focus = Math.max(0, Math.min(tiles.length - 1, focus + step));
  tiles[focus]?.focus();
}

tiles.forEach((tile, index) => {
  loadFirst(tile);
  playOnHover(tile);
  tile.addEventListener("focus", () => { focus = index; });
});
document.getElementById("select-all").addEventListener("change", (e) => {
  for (const t of tiles) if (!t.dataset.done) t.querySelector("[data-select]").checked = e.target.checked;
});
document.getElementById("approve-selected").addEventListener("click", () => ask("approve"));
document.getElementById("skip-selected")?.addEventListener("click", () => ask("skip"));
document.getElementById("reject-selected").addEventListener("click", () => ask("reject"));
document.getElementById("undo").addEventListener("click", undo);
window.addEventListener("pagehide", () => send({ leaving: true }));
document.addEventListener("keydown", (e) => {
  if (e.target.matches("input[type=text], textarea")) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); undo(); return; }
  const keys = { ArrowRight: () => move(1), j: () => move(1), ArrowLeft: () => move(-1), k: () => move(-1),
    " ": () => { const box = tiles[focus]?.querySelector("[data-select]"); if (box) box.checked = !box.checked; },
    a: () => ask("approve"), s: () => ask("skip"), r: () => ask("reject"), u: undo,
    Enter: () => { const link = tiles[focus]?.querySelector("a"); if (link) location.href = link.href; } };
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
});
tiles[0]?.focus();

// Someone opening a job's page marks its tile, live (presence over the studio socket).
new LiveSocket("/ws/studio/", {
  since: Number(root.dataset.lastEvent), cursor: "id",
  onEvent: (event) => {
    const tile = tiles.find((t) => t.dataset.job === event.job);
    if (!tile) return;
    if (event.type === "job.status" && tile.dataset.done) follow(tile, event.payload.to);
    if (event.type !== "presence") return;
    tile.querySelector("[data-watching]").textContent = event.viewers.length ? `reviewing: ${event.viewers.join(", ")}` : "";
  },
});
