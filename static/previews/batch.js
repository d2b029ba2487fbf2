// Batch review: a grid of first frames that play (scene by scene) on hover; act on several jobs at once.
import { describeErrors, getJSON, postJSON } from "./api.js";
import { LiveSocket } from "./socket.js";

const root = document.getElementById("batch");
const tiles = [...document.querySelectorAll(".tile")];
const status = document.getElementById("batch-status");
window.batch = { loaded: 0, acted: 0 };
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

async function act(action) {
  const targets = selected();
  if (!targets.length) { status.textContent = "Select jobs first."; return; }
  let reason = "";
  if (action === "reject") { reason = prompt("Why are these rejected?") || ""; if (!reason.trim()) return; }
  status.textContent = `${action}: ${targets.length} job(s)…`;
  const { ok, data } = await postJSON(root.dataset.actionUrl, { action, jobs: targets.map((t) => t.dataset.job), reason });
  if (!ok) { status.textContent = describeErrors(data); return; }
  let done = 0;
  for (const tile of targets) {
    const result = data.results[tile.dataset.job];
    tile.querySelector("[data-result]").textContent = result.ok ? `${action} ✓` : result.error;
    if (result.ok) { tile.dataset.done = action; tile.querySelector("[data-select]").checked = false; done += 1; }
  }
  window.batch.acted += done;
  status.textContent = `${done} of ${targets.length} done.`;
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
document.getElementById("approve-selected").addEventListener("click", () => act("approve"));
document.getElementById("skip-selected")?.addEventListener("click", () => act("skip"));
document.getElementById("reject-selected").addEventListener("click", () => act("reject"));
document.addEventListener("keydown", (e) => {
  if (e.target.matches("input[type=text], textarea")) return;
  const keys = { ArrowRight: () => move(1), j: () => move(1), ArrowLeft: () => move(-1), k: () => move(-1),
    " ": () => { const box = tiles[focus]?.querySelector("[data-select]"); if (box) box.checked = !box.checked; },
    a: () => act("approve"), s: () => act("skip"), r: () => act("reject"),
    Enter: () => { const link = tiles[focus]?.querySelector("a"); if (link) location.href = link.href; } };
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
});
tiles[0]?.focus();

// Someone opening a job's page marks its tile, live (presence over the studio socket).
new LiveSocket("/ws/studio/", {
  since: Number(root.dataset.lastEvent), cursor: "id",
  onEvent: (event) => {
    if (event.type !== "presence") return;
    const tile = tiles.find((t) => t.dataset.job === event.job);
    if (tile) tile.querySelector("[data-watching]").textContent = event.viewers.length ? `reviewing: ${event.viewers.join(", ")}` : "";
  },
});
