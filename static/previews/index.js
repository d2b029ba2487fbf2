// The studio's job list (live status over the socket) and the start form's matchup picker.
import { getJSON } from "./api.js";
import { LiveSocket, STATUS_TEXT } from "./socket.js";

const table = document.getElementById("jobs");
window.studio = { events: 0 };

function row(jobId) {
  let tr = table.querySelector(`tr[data-job="${jobId}"]`);
  // A filtered list shows what the server found for the filters; a new job appears after "Find" again.
  if (!tr && table.dataset.filtered) return null;
  if (!tr) {
    table.querySelector("tr.empty")?.remove();
    tr = document.createElement("tr");
    tr.dataset.job = jobId;
    tr.innerHTML = `<td class="piece"><span class="thumb none"></span> <a href="/studio/jobs/${jobId}/">New job</a>
      <small class="muted"><code>${jobId.slice(0, 8)}</code></small></td><td data-field="preset"></td><td></td>
      <td class="status" data-field="status"></td><td data-field="layer"></td>
      <td data-field="comments" data-comments="0"></td><td>just now</td><td></td>`;
    table.tBodies[0].prepend(tr);
  }
  return tr;
}

new LiveSocket("/ws/studio/", {
  since: Number(table.dataset.lastEvent), cursor: "id",
  onState: (up) => document.getElementById("live-dot").classList.toggle("up", up),
  onEvent: (event) => {
    window.studio.events += 1;
    const tr = row(event.job);
    if (!tr) return;
    const p = event.payload || {};
    if (event.type === "job.created") tr.querySelector("[data-field=preset]").textContent = p.preset;
    if (event.type === "layer.started") tr.querySelector("[data-field=layer]").textContent = p.layer;
    if (event.type === "comment.added" || event.type === "comment.resolved") comments(tr, event);
    if (event.type === "job.status") {
      const cell = tr.querySelector("[data-field=status]");
      cell.textContent = STATUS_TEXT[p.to] || p.to;
      cell.className = `status status-${p.to}`;
    }
  },
});

// Notifications: each job's count of open comments, and the newest of them above the list.
function comments(tr, event) {
  const cell = tr.querySelector("[data-field=comments]");
  const open = Math.max(0, Number(cell.dataset.comments) + (event.type === "comment.added" ? 1 : -1));
  cell.dataset.comments = open;
  cell.textContent = open ? `💬 ${open}` : "";
  const box = document.getElementById("notices");
  const list = box.querySelector("ul");
  const p = event.payload;
  list.querySelector(`li[data-comment="${p.id}"]`)?.remove();
  if (event.type === "comment.added") {
    const li = document.createElement("li");
    li.dataset.comment = p.id;
    const link = Object.assign(document.createElement("a"), { href: `/studio/jobs/${event.job}/` });
    link.append(tr.querySelector("[data-field=preset]").textContent || "job", " ", Object.assign(document.createElement("code"), { textContent: event.job.slice(0, 8) }));
    li.append(link, ` · ${p.by} at ${p.at_s.toFixed(1)} s${p.layer ? ` (${p.layer})` : ""}: ${p.text.slice(0, 120)}`);
    list.prepend(li);
    while (list.children.length > 8) list.lastElementChild.remove();
  }
  box.hidden = !list.children.length;
}

const form = document.getElementById("start-form");
const picker = document.getElementById("id_matchup_id");
const hint = document.getElementById("matchup-hint");

let latest = 0;
async function loadMatchups() {
  const params = new URLSearchParams({ preset: form.preset.value, sport: form.sport.value, date: form.date.value });
  if (!form.preset.value) return;
  const request = ++latest;
  hint.textContent = "Loading matchups…";
  const { ok, data } = await getJSON(`${form.dataset.matchupsUrl}?${params}`);
  if (request !== latest) return;  // a newer choice of sport or date has been asked for meanwhile
  const keep = picker.value || picker.dataset.initial;
  picker.replaceChildren(new Option("First game of the day", ""));
  if (!ok) { hint.textContent = Object.values(data.errors || {}).flat().join(" ") || "Could not load matchups."; return; }
  const now = Date.now();
  for (const m of data.matchups) {
    const started = new Date(m.game_time).getTime() <= now ? " · kicked off" : "";
    picker.append(new Option(`${m.title} · ${new Date(m.game_time).toLocaleString()}${started}`, m.id, false, m.id === keep));
  }
  hint.textContent = data.matchups.length ? `${data.matchups.length} matchups` : "No games that day in this preset's data source.";
  if (data.sample) hint.textContent += " Sample data: the shipped slate, the same games for any date.";
}
for (const name of ["preset", "sport", "date"]) form[name].addEventListener("change", loadMatchups);
loadMatchups();
