// The job page: live layer status over the socket, and in review the preview, adjustments and approval. Its parts
// are ES modules in job/ (no build step): the player, the adjust panel, the decisions, the render panel.
import { describeErrors, getJSON } from "./api.js";
import { capabilities, MODE_TEXT } from "./capabilities.js";
import { Comments, History, setField, SharedDraft, showPresence, Suggestions } from "./desk.js";
import { decisionButtons, retryButton, rollbackButtons } from "./job/decisions.js";
import { $, root, studio } from "./job/page.js";
import { canvasPreview, hideStage, keys, showMode, staticPreview } from "./job/player.js";
import { bindDelivery, renderPanelOnTop, showRenderProgress } from "./job/render.js";
import { LiveSocket, STATUS_TEXT } from "./socket.js";

// ---------------------------------------------------------------------------------------------- live status
window.addEventListener("beforeunload", () => { studio.leaving = true; });
// Status changes after which the page shows other sections: reload it to get them from the server.
const RELOAD_ON = new Set(["awaiting_review", "scheduled", "done", "failed", "rejected", "cancelled", "queued"]);

function layerRow(layer) { return root.querySelector(`li[data-layer="${layer}"]`); }

function onEvent(event) {
  studio.lastEvent = event;
  const p = event.payload || {};
  const row = p.layer ? layerRow(p.layer) : null;
  switch (event.type) {
    case "layer.started":
      if (row) { row.className = "layer layer-running"; row.querySelector("[data-field=state]").textContent = "running"; }
      break;
    case "layer.progress":
      if (row) row.querySelector("progress").value = Math.round(p.fraction * 100);
      if (p.layer === "L6") showRenderProgress(p.fraction, p.message);
      break;
    case "layer.finished": case "layer.reused":
      if (row) {
        row.className = `layer layer-${event.type === "layer.reused" ? "reused" : "done"}`;
        row.querySelector("progress").value = 100;
        row.querySelector("[data-field=state]").textContent = event.type === "layer.reused" ? "reused" : "done";
        if (p.duration_s !== undefined) row.querySelector("[data-field=duration]").textContent = `${p.duration_s.toFixed(2)} s`;
      }
      break;
    case "layer.failed":
      if (row) { row.className = "layer layer-failed"; row.querySelector("[data-field=error]").textContent = p.message; }
      break;
    case "presence":
      studio.viewers = event.viewers;
      showPresence($("presence"), event.viewers, root.dataset.user);
      break;
    case "draft.saved":
      studio.draft?.receive(p);
      draftHistory(p);
      break;
    case "comment.added": case "comment.resolved":
      studio.comments?.take(p);
      break;
    case "job.status": {
      const status = $("job-status");
      status.textContent = STATUS_TEXT[p.to] || p.to;
      status.className = `status status-${p.to}`;
      root.dataset.status = p.to;
      if (p.to === "rendering" || p.to === "approved") renderPanelOnTop();
      // The page shows the job's new state by loading again, unless the person is already going elsewhere (their
      // click on a link must win over this page's own reload).
      if (RELOAD_ON.has(p.to) && p.from !== p.to) setTimeout(() => { if (!studio.leaving) location.reload(); }, 150);
      break;
    }
  }
}

if (["approved", "rendering", "scheduled", "done"].includes(root.dataset.status)) renderPanelOnTop();

studio.socket = new LiveSocket(`/ws/jobs/${root.dataset.job}/`, {
  since: Number(root.dataset.lastSeq), cursor: "seq", onEvent,
  onState: (up) => { $("live-dot").classList.toggle("up", up); studio.socketUp = up; },
});
retryButton();
bindDelivery();

// ---------------------------------------------------------------------------------------------- review
// Progressive enhancement (the plans' phase 3): the decision buttons work in every browser, bound before
// anything that can fail; then the best preview the browser can give: the live canvas with audio and
// recording ("full"), frames drawn by the server with the adjust panel ("partial", also when the
// canvas's files fail to load), or none, with the reason on the page.
async function review() {
  const caps = capabilities();
  studio.capabilities = caps;
  const desk = { adjustments: { text_scale: 1, timing_offset: 0, text_edits: {}, colors: {}, caption_edits: {} },
    snapshots: () => ({}) };
  studio.adjustments = desk.adjustments;
  if ($("approve")) decisionButtons(desk);
  if ($("comment-form")) {
    studio.comments = new Comments({ url: root.dataset.commentsUrl, list: $("comments"), form: $("comment-form"),
      marks: $("comment-marks"), me: root.dataset.user, now: () => studio.player?.t ?? 0,
      seek: (t) => studio.player?.seek(t) });
  }
  rollbackButtons();
  showMode(caps.mode, MODE_TEXT[caps.mode === "full" && !caps.record ? "unrecorded" : caps.mode]);
  if (caps.mode === "none") {
    hideStage();
    if ($("adjust-form")) $("adjust-form").hidden = true;
    await studio.comments?.load(null);
    studio.ready = true;
    return;
  }
  const requested = performance.now();
  const { ok, data: payload } = await getJSON(root.dataset.planUrl);
  if (!ok) { $("capabilities").textContent = describeErrors(payload); hideStage(); studio.ready = true; return; }
  studio.metrics.planFetchMs = performance.now() - requested;
  studio.payload = payload;
  studio.comments?.load(payload.plan);
  // The page starts from the job's shared draft and keeps in step with it (static/previews/desk.js).
  const shared = new SharedDraft({ url: root.dataset.draftUrl, draft: payload.draft, me: root.dataset.user,
    notice: (text, warn = false) => { $("draft-notice").textContent = text; $("draft-notice").classList.toggle("warning", warn); },
    onRemote: () => { studio.history.rebase(); desk.onRemote?.(); } });
  desk.adjustments = studio.adjustments = shared.adjustments;
  studio.draft = shared;
  studio.history = new History(shared.adjustments);
  keys(desk);
  if ($("suggestions") && $("adjust-form")) {
    studio.suggestions = new Suggestions({ url: root.dataset.suggestionsUrl, pictureUrl: root.dataset.pictureUrl,
      list: $("suggestion-list"), state: $("suggestions-state"), note: $("critique-note"),
      adjustments: () => desk.adjustments,
      apply: (changes) => {
        for (const [field, value] of Object.entries(changes)) { setField(desk.adjustments, field, value); shared.touch(field); }
        desk.onRemote?.();
      } });
    desk.onAdjusted = () => studio.suggestions.soon();
  }
  if (payload.draft.problem) $("draft-notice").textContent = payload.draft.problem;
  if (caps.mode === "partial") { await staticPreview(payload, desk); return; }
  try {
    await canvasPreview(payload, caps, desk);
  } catch (error) {
    studio.previewError = error.message;
    showMode("partial", `The preview's files did not load (${error.message}), so these frames are drawn by the server.`);
    await staticPreview(payload, desk);
  }
}

function draftHistory(p) {
  let list = $("drafts");
  if (!list) {
    list = Object.assign(document.createElement("ol"), { id: "drafts", className: "versions" });
    $("versions").after(Object.assign(document.createElement("h3"), { textContent: "Draft history" }), list);
  }
  if (list.querySelector(`li[data-draft="${p.number}"]`)) return;
  // A reviewer's quick saves are one draft (jobs/services/drafts.py COALESCE_S): the one it replaces goes.
  if (p.replaces) list.querySelector(`li[data-draft="${p.replaces}"]`)?.remove();
  const li = document.createElement("li");
  li.dataset.draft = p.number;
  li.append(Object.assign(document.createElement("strong"), { textContent: `draft ${p.number}` }),
    ` ${p.note || ""} · ${p.by}`);
  if (p.changes?.length) {
    const ul = document.createElement("ul");
    ul.append(...p.changes.map((change) => Object.assign(document.createElement("li"), { textContent: change })));
    li.append(ul);
  }
  // The one before becomes one to go back to.
  const previous = list.firstElementChild;
  if (previous && $("approve") && !previous.querySelector("button")) {
    const number = previous.dataset.draft || previous.querySelector("strong").textContent.replace("draft ", "");
    previous.append(Object.assign(document.createElement("button"), { type: "button", className: "link",
      textContent: "Make this the draft" }));
    previous.querySelector("button").dataset.rollbackDraft = number;
  }
  list.prepend(li);
}

if ($("review")) review();
else studio.ready = true;
