// The job page: live layer status over the socket, and in review the preview, adjustments and approval.
import { describeErrors, getJSON, postJSON } from "./api.js";
import { capabilities, MODE_TEXT } from "./capabilities.js";
import { PreviewCanvas } from "./canvas.js";
import { Comments, fieldValue, History, setField, SharedDraft, showPresence, Suggestions } from "./desk.js";
import { Player } from "./player.js";
import { Recorder } from "./recorder.js";
import { LiveSocket, STATUS_TEXT } from "./socket.js";

const root = document.getElementById("job");
const $ = (id) => document.getElementById(id);
const studio = (window.studio = { metrics: {}, ready: false });

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
      if (p.layer === "L6") {
        $("render-bar").value = Math.round(p.fraction * 100);
        $("render-step").textContent = `${Math.round(p.fraction * 100)} % · ${p.message || "rendering"}`;
      }
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

// From approval on, the render's panel is the first thing under the header: while it runs it is what the reviewer
// waits for, and after it the video and its downloads are what the page is for.
function renderPanelOnTop() {
  const panel = $("render-panel");
  panel.hidden = false;
  root.querySelector(".job-head").after(panel);
}
if (["approved", "rendering", "scheduled", "done"].includes(root.dataset.status)) renderPanelOnTop();

const socket = new LiveSocket(`/ws/jobs/${root.dataset.job}/`, {
  since: Number(root.dataset.lastSeq), cursor: "seq", onEvent,
  onState: (up) => { $("live-dot").classList.toggle("up", up); studio.socketUp = up; },
});

$("retry-button")?.addEventListener("click", async (e) => {
  e.target.disabled = true;
  const { ok, data } = await postJSON(root.dataset.retryUrl);
  if (!ok) { alert(describeErrors(data)); e.target.disabled = false; }
});

// ---------------------------------------------------------------------------------------------- delivery
// The slot is sent as an instant (ISO with its offset): the picker shows the reviewer's local time.
async function sendDelivery(body) {
  const { ok, data } = await postJSON(root.dataset.deliveryUrl, body);
  if (ok) { location.reload(); return; }
  $("delivery-error").textContent = describeErrors(data);
}
$("delivery-form")?.addEventListener("submit", (e) => {
  e.preventDefault();
  const local = new Date(e.target.elements.publish_at.value);
  if (Number.isNaN(local.getTime())) { $("delivery-error").textContent = "pick a date and time"; return; }
  sendDelivery({ publish_at: local.toISOString() });
});
$("deliver-now")?.addEventListener("click", () => sendDelivery({ now: true }));

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

// The page's keys, as a video editor's: Space or K plays and pauses, ← and → step a frame (with Shift, a second),
// J and L a second back and on; Ctrl+Z and Ctrl+Shift+Z (or Ctrl+Y) undo and redo this reviewer's own changes.
// Typing in a field keeps its own keys (its text's undo included). A carousel's ← and → move between slides.
function keys(desk) {
  const undoing = (redo) => {
    const field = redo ? studio.history.redo() : studio.history.undo();
    if (!field) return;
    studio.draft.touch(field);
    desk.onRemote?.();
    showUndo();
  };
  const showUndo = () => {
    if ($("undo")) $("undo").disabled = !studio.history.undos.length;
    if ($("redo")) $("redo").disabled = !studio.history.redos.length;
  };
  studio.showUndo = showUndo;
  $("undo")?.addEventListener("click", () => undoing(false));
  $("redo")?.addEventListener("click", () => undoing(true));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest?.("input, textarea, select, [contenteditable]") || event.altKey) return;
    const key = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey) && (key === "z" || key === "y")) {
      event.preventDefault();
      undoing(key === "y" || event.shiftKey);
      return;
    }
    const player = studio.player;
    if (event.ctrlKey || event.metaKey || !player || studio.slide !== undefined) return;
    const second = player.plan.fps;
    const moves = { arrowleft: event.shiftKey ? -second : -1, arrowright: event.shiftKey ? second : 1, j: -second, l: second };
    if (key === " " || key === "k") {
      event.preventDefault();
      if (key === "k" && !player.playing) return;
      if (player.playing) player.pause(); else player.play();
    } else if (key in moves) {
      event.preventDefault();
      if (player.playing) player.pause();
      player.step(moves[key]);
    }
  });
  document.addEventListener("input", showUndo);
  document.addEventListener("change", showUndo);
  showUndo();
}

function showMode(mode, text) {
  $("capabilities").textContent = text;
  $("capabilities").dataset.mode = mode;
  studio.mode = mode;
}

function hideStage() {
  for (const id of ["preview", "preload", "transport", "static-preview"]) if ($(id)) $(id).hidden = true;
}

async function canvasPreview(payload, caps, desk) {
  const arrived = performance.now();
  const view = new PreviewCanvas($("preview"));
  view.setPlan(payload);
  if (payload.slide_times.length) { await slidesPreview(payload, desk, view, arrived); return; }
  const player = new Player(view, {
    onTime: (t) => {
      $("clock").textContent = `${t.toFixed(2)} s`;
      if ($("comment-at")) $("comment-at").textContent = `${t.toFixed(1)} s`;
      $("scrubber").value = Math.round((t / player.duration) * 1000);
    },
    onState: (playing) => { $("play").textContent = playing ? "Pause" : "Play"; },
    onSilent: (why) => { $("player-note").textContent = why; },
  });
  studio.view = view;
  studio.player = player;
  await view.preload(
    (fraction) => { $("preload-bar").value = Math.round(fraction * 100); },
    () => { player.show(0, true); studio.metrics.firstFrameMs = performance.now() - arrived; },
  );
  if (caps.audio) await player.loadAudio();
  $("preload").hidden = true;
  $("play").disabled = false;
  markers(payload.plan);
  desk.snapshots = () => {
    const at = player.t;
    const shots = {};
    for (const t of studio.payload.snapshot_times) shots[t.toFixed(3)] = view.snapshot(t);
    player.show(at, true);
    return shots;
  };

  $("play").addEventListener("click", () => (player.playing ? player.pause() : player.play()));
  $("step-back").addEventListener("click", () => player.step(-1));
  $("step-forward").addEventListener("click", () => player.step(1));
  $("scrubber").addEventListener("input", (e) => player.seek((e.target.value / 1000) * player.duration));
  if ((payload.plan.safe_zones || []).length) {
    $("zones-toggle").hidden = false;
    $("show-zones").addEventListener("change", (e) => { view.showZones = e.target.checked; player.redraw(); });
  }

  const recorder = new Recorder($("preview"), player);
  studio.recorder = recorder;
  if (!caps.record) $("record").hidden = true;
  $("record").addEventListener("click", () => record(recorder));
  window.addEventListener("pagehide", () => { recorder.revoke(); player.close(); view.release(); socket.close(); });

  if ($("adjust-form")) adjustPanel(payload, desk, {
    // Drawn at once (the changed texts set by the browser), then again with L6's sprites for them.
    onPlan: async (data) => {
      view.setPlan(data);
      player.redraw();
      await view.loadSprites();
      if (view.payload === data) player.redraw();
    },
    seek: (scene, layer) => player.seek(Math.min(scene.end - 1e-3, layer.start + 0.6)),
  });
  studio.ready = true;
}

// A carousel or a still is reviewed as what it is: images, not a video. The slides side by side (each drawn by
// the canvas at the moment L6 makes it from: payload.slide_times) and the one picked large, moved through with
// the arrow keys; no timeline, no sound, no text timing (the template leaves them out).
async function slidesPreview(payload, desk, view, arrived) {
  const player = new Player(view, { silent: true });
  studio.view = view;
  studio.player = player;
  await view.preload(
    (fraction) => { $("preload-bar").value = Math.round(fraction * 100); },
    () => { player.show(studio.payload.slide_times[0], true); studio.metrics.firstFrameMs = performance.now() - arrived; },
  );
  $("preload").hidden = true;
  const strip = $("slides");
  const many = payload.slide_times.length > 1;
  showMode("full", many ? "The slides as they will be posted: click one, or move with ← and →."
    : "The image as it will be posted.");
  for (const id of ["slides", "slide-prev", "slide-next", "slide-label"]) $(id).hidden = !many;
  let current = 0;
  const thumbs = payload.slide_times.map((_, index) => {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "slide" });
    button.dataset.slide = index;
    button.setAttribute("aria-label", `Slide ${index + 1}`);
    const thumb = Object.assign(document.createElement("canvas"), { width: 135, height: Math.round(135 * view.canvas.height / view.canvas.width) });
    button.append(thumb, Object.assign(document.createElement("span"), { textContent: String(index + 1) }));
    button.addEventListener("click", () => pick(index));
    return button;
  });
  strip.replaceChildren(...thumbs.map((button) => {
    const item = document.createElement("li");
    item.append(button);
    return item;
  }));
  const drawThumbs = () => {
    for (const [index, t] of studio.payload.slide_times.entries()) {
      player.show(t, true);
      const thumb = thumbs[index].querySelector("canvas");
      thumb.getContext("2d").drawImage(view.canvas, 0, 0, thumb.width, thumb.height);
    }
    pick(current);
  };
  function pick(index) {
    current = Math.max(0, Math.min(index, studio.payload.slide_times.length - 1));
    player.show(studio.payload.slide_times[current], true);
    thumbs.forEach((button, i) => button.setAttribute("aria-current", i === current ? "true" : "false"));
    $("slide-label").textContent = `Slide ${current + 1} of ${thumbs.length}`;
    if ($("comment-at")) $("comment-at").textContent = many ? `slide ${current + 1}` : "the image";
    studio.slide = current;
  }
  drawThumbs();
  $("slide-prev").addEventListener("click", () => pick(current - 1));
  $("slide-next").addEventListener("click", () => pick(current + 1));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      pick(current + (event.key === "ArrowRight" ? 1 : -1));
    }
  });
  desk.snapshots = () => {
    const shots = {};
    for (const t of studio.payload.snapshot_times) shots[t.toFixed(3)] = view.snapshot(t);
    pick(current);
    return shots;
  };
  if ((payload.plan.safe_zones || []).length) {
    $("zones-toggle").hidden = false;
    $("show-zones").addEventListener("change", (e) => { view.showZones = e.target.checked; drawThumbs(); });
  }
  window.addEventListener("pagehide", () => { view.release(); socket.close(); });
  // A slide's settled moment for what a reviewer is editing: its text, or a comment made on it.
  const slideOf = (t) => {
    const index = studio.payload.plan.scenes.findIndex((scene) => scene.start <= t && t < scene.end);
    return Math.max(0, Math.min(index, thumbs.length - 1));
  };
  if (studio.comments) {
    // A comment is made on the slide shown and named by it.
    studio.comments.seek = (t) => pick(slideOf(t));
    studio.comments.label = (t) => (many ? `Slide ${slideOf(t) + 1}` : "Image");
    studio.comments.draw();
  }
  if ($("adjust-form")) adjustPanel(payload, desk, {
    onPlan: async (data) => {
      view.setPlan(data);
      drawThumbs();
      await view.loadSprites();
      if (view.payload === data) drawThumbs();
    },
    seek: (scene) => pick(slideOf(scene.start)),
  });
  studio.ready = true;
}

// The browser's recording, remuxed by the server so that the file carries its duration (Chromium's WebM
// has none); when the server cannot, the browser's own file is offered, and the page says what is missing.
async function record(recorder) {
  $("record").disabled = true;
  $("record").textContent = "Recording…";
  const link = $("recording-link");
  try {
    const blob = await recorder.record();
    const extension = blob.type.includes("mp4") ? "mp4" : "webm";
    const form = new FormData();
    form.append("recording", blob, `preview.${extension}`);
    const { ok, data } = await postForm(root.dataset.recordingUrl, form);
    if (ok) {
      link.href = data.url;
      studio.recording = { size: data.bytes, type: blob.type, duration: data.duration, url: data.url,
        audio: recorder.plan.audio, bitrate: recorder.plan.bitrate };
    } else {
      link.href = recorder.link(blob);
      $("recording-note").textContent = `Saved in the browser only (${describeErrors(data)}).`;
      studio.recording = { size: blob.size, type: blob.type, url: link.href, audio: recorder.plan.audio };
    }
    link.download = `preview-${root.dataset.job.slice(0, 8)}.${extension}`;
    link.hidden = false;
  } catch (error) {
    // Nothing to download: the note says why, and any earlier link is taken away.
    link.hidden = true;
    link.removeAttribute("href");
    $("recording-note").textContent = `Recording failed: ${error.message}.`;
  } finally {
    $("record").disabled = false;
    $("record").textContent = "Record preview";
  }
}

async function postForm(url, form) {
  const token = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  const response = await fetch(url, { method: "POST", credentials: "same-origin", body: form,
    headers: { "X-CSRFToken": decodeURIComponent(token) } });
  let data = {};
  try { data = await response.json(); } catch { data = { error: `the server answered ${response.status}` }; }
  return { ok: response.ok, data };
}

// Frames drawn by the server (L6's own compositor), one per scene, redrawn after each adjustment.
async function staticPreview(payload, desk) {
  hideStage();
  const box = $("static-preview");
  box.hidden = false;
  let inFlight = null;
  const draw = async () => {
    inFlight?.abort();
    inFlight = new AbortController();
    try {
      const { ok, data } = await postJSON(root.dataset.framesUrl, { adjustments: desk.adjustments },
        { signal: inFlight.signal });
      if (!ok) { box.textContent = describeErrors(data); return; }
      box.replaceChildren(...data.frames.map((frame) => {
        const figure = document.createElement("figure");
        const img = new Image();
        img.src = frame.src;
        img.alt = `scene ${frame.scene} at ${frame.t} s`;
        img.dataset.scene = frame.scene;
        const caption = document.createElement("figcaption");
        caption.textContent = `${frame.scene} · ${frame.t.toFixed(1)} s`;
        figure.append(img, caption);
        return figure;
      }));
      studio.staticFrames = data.frames.length;
      studio.staticDraws = (studio.staticDraws || 0) + 1;
    } catch (error) {
      if (error.name !== "AbortError") box.textContent = error.message;
    }
  };
  await draw();
  if ($("adjust-form")) adjustPanel(payload, desk, { onPlan: draw, seek: () => {} });
  studio.ready = true;
}

function markers(plan) {
  const box = $("markers");
  box.replaceChildren(...plan.scenes.map((scene) => {
    const mark = document.createElement("span");
    mark.style.left = `${(scene.start / plan.duration) * 100}%`;
    mark.title = scene.id;
    return mark;
  }));
}

// The adjust panel: every change goes to the server, which applies it to the plan; `onPlan` shows the result.
// Each change is also a field of the shared draft (`studio.draft.touch`), saved once typing pauses; someone
// else's save sets the controls again (`refresh`) and redraws.
function adjustPanel(payload, desk, { onPlan, seek }) {
  const { plan, originals } = payload;
  const adjustments = desk.adjustments;
  const touch = (field) => { studio.history?.record(field); studio.draft?.touch(field); };
  const controls = [];
  const meters = new Map();  // text layer id -> show(room)
  let inFlight = null;

  async function send(started) {
    inFlight?.abort();
    inFlight = new AbortController();
    try {
      const { ok, data } = await postJSON(root.dataset.planUrl, { adjustments }, { signal: inFlight.signal });
      if (!ok) {
        $("adjust-errors").textContent = describeErrors(data);
        for (const [id, room] of Object.entries(data.room ?? {})) meters.get(id)?.(room);
        unchecked();  // refused for another field: this wording's fit was not measured
        return;
      }
      $("adjust-errors").textContent = "";
      for (const scene of data.plan.scenes) for (const layer of scene.layers) {
        if (layer.type === "text") meters.get(layer.id)?.(layer.room);
      }
      showPost(data);
      await onPlan(data);
      desk.onAdjusted?.();
      studio.metrics.lastAdjustMs = performance.now() - started;
      studio.adjustCount = (studio.adjustCount || 0) + 1;
    } catch (error) {
      if (error.name !== "AbortError") { $("adjust-errors").textContent = error.message; unchecked(); }
    }
  }
  // A meter still waiting when the answer held no verdict for it says so, rather than "checking…" for ever.
  const unchecked = () => {
    for (const meter of document.querySelectorAll(".fit-meter.pending")) {
      meter.classList.remove("pending", "over");
      meter.textContent = "not checked: see the message above";
    }
  };

  // A carousel or a still has no text timing to set (the template leaves the slider out).
  const timing = $("timing-offset");
  const sliders = () => {
    $("text-scale").value = adjustments.text_scale;
    $("text-scale-value").textContent = `${Number(adjustments.text_scale).toFixed(2)}×`;
    if (!timing) return;
    timing.value = adjustments.timing_offset;
    $("timing-offset-value").textContent = `${Number(adjustments.timing_offset).toFixed(2)} s`;
  };
  controls.push(sliders);
  sliders();
  $("text-scale").addEventListener("input", (e) => {
    adjustments.text_scale = Number(e.target.value);
    sliders();
    touch("text_scale");
    send(performance.now());
  });
  timing?.addEventListener("input", (e) => {
    adjustments.timing_offset = Number(e.target.value);
    sliders();
    touch("timing_offset");
    send(performance.now());
  });

  const editable = [];
  for (const scene of plan.scenes) for (const layer of scene.layers) {
    if (layer.type === "text" && layer.editable) editable.push([scene, layer]);
  }
  $("text-edits").replaceChildren(...editable.map(([scene, layer]) => {
    const row = document.createElement("div");
    row.className = "text-edit";
    const label = document.createElement("label");
    const caption = document.createElement("span");
    caption.textContent = payload.labels?.layers[layer.id] ?? `${scene.id} · ${layer.role}`;
    label.append(caption);
    const original = originals.texts[layer.id] ?? layer.text;
    const input = document.createElement("input");
    input.value = adjustments.text_edits[layer.id] ?? original;
    input.dataset.layer = layer.id;
    // The fit meter shows the server's verdict on this very wording (pipeline/design.py `room`, from the
    // layout that draws it): what the meter calls too long is what the server refuses, and nothing else.
    // While the answer is on its way it says so rather than guess.
    const meter = document.createElement("span");
    meter.className = "fit-meter";
    meter.dataset.layer = layer.id;
    meters.set(layer.id, (room) => {
      meter.classList.remove("pending");
      if (room == null) { meter.textContent = ""; return; }
      meter.textContent = room >= 0 ? `${room} characters left` : `${-room} characters too many`;
      meter.classList.toggle("over", room < 0);
    });
    meters.get(layer.id)(layer.room);
    input.addEventListener("focus", () => seek(scene, layer));
    input.addEventListener("input", () => {
      meter.textContent = "checking…";
      meter.classList.add("pending");
      if (input.value.trim() && input.value !== original) adjustments.text_edits[layer.id] = input.value;
      else delete adjustments.text_edits[layer.id];
      touch(`text_edits.${layer.id}`);
      send(performance.now());
    });
    const colour = document.createElement("select");
    colour.dataset.layer = layer.id;
    colour.append(...plan.palette.map((hex) => new Option(hex, hex, false, hex === layer.color)));
    // The contrast warning: the server measured which brand colours read on what is behind this text.
    const warning = document.createElement("span");
    warning.className = "contrast-warning";
    warning.dataset.layer = layer.id;
    const warn = () => {
      const reads = !layer.readable_colors?.length || layer.readable_colors.includes(colour.value);
      warning.textContent = reads ? "" : {
        refuse: "Does not read on this background: it will be refused.",
        panel: "Low contrast here: a panel will be put behind the text.",
        stroke: "Low contrast here: the text will get an outline.",
      }[plan.legibility || "stroke"];
      warning.hidden = reads;
    };
    warn();
    // Someone else's save, a rollback or an undo sets the fields again, and the warning with them (it stayed
    // up after a rollback had restored a colour that reads).
    controls.push(() => {
      if (document.activeElement !== input) input.value = adjustments.text_edits[layer.id] ?? original;
      colour.value = adjustments.colors[layer.id] ?? originals.colors[layer.id] ?? layer.color;
      warn();
    });
    colour.addEventListener("change", () => {
      warn();
      adjustments.colors[layer.id] = colour.value;
      touch(`colors.${layer.id}`);
      send(performance.now());
    });
    label.append(input, colour);
    row.append(label, meter, warning);
    return row;
  }));

  const showPost = postPanel(payload, adjustments, touch, () => send(performance.now()), controls);
  showPost(payload);

  desk.onRemote = () => { for (const refresh of controls) refresh(); send(performance.now()); };
  studio.suggestions?.refresh();

  // Captions: each group's words can be corrected (a misspelt name); their timing stays the narration's.
  const captions = plan.overlay.find((layer) => layer.type === "captions");
  const box = $("caption-edits");
  if (!captions || !box) return;
  box.hidden = false;
  box.querySelector("summary").textContent = `Captions (${captions.groups.length} lines)`;
  // Captions can be turned off while a scene shows, where they would only repeat its own numbers; the caption
  // files keep the whole speech. A scene is offered where a caption group starts in it.
  const spoken = plan.scenes.map((scene, index) => [scene, index])
    .filter(([scene]) => captions.groups.some((g) => scene.start <= g.start && g.start < scene.end));
  const switches = spoken.map(([scene, index]) => {
    const field = `captions_off.${scene.id}`;
    const input = Object.assign(document.createElement("input"), { type: "checkbox" });
    input.dataset.captionsScene = scene.id;
    const show = () => { input.checked = !fieldValue(adjustments, field); };
    controls.push(show);
    show();
    input.addEventListener("change", () => {
      setField(adjustments, field, input.checked ? undefined : true);
      touch(field);
      seek(scene, { start: scene.start });
      send(performance.now());
    });
    const label = Object.assign(document.createElement("label"), { className: "captions-scene" });
    label.append(input, ` Captions during ${payload.labels?.scenes[scene.id] ?? `scene ${index + 1}`}`);
    return label;
  });
  box.querySelector("div").replaceChildren(...switches, ...captions.groups.map((group, index) => {
    const original = originals.captions[index] ?? group.words.map((word) => word.text).join(" ");
    const input = Object.assign(document.createElement("input"), { value: adjustments.caption_edits[index] ?? original });
    input.dataset.caption = index;
    controls.push(() => { if (document.activeElement !== input) input.value = adjustments.caption_edits[index] ?? original; });
    input.addEventListener("focus", () => seek({ end: group.end }, { start: group.start - 0.6 + 1e-3 }));
    input.addEventListener("input", () => {
      if (input.value.trim() && input.value !== original) adjustments.caption_edits[index] = input.value;
      else delete adjustments.caption_edits[index];
      touch(`caption_edits.${index}`);
      send(performance.now());
    });
    const label = document.createElement("label");
    // "Line 3 · 4.2 s": numbered as the draft's history names it ("Caption line 3 changed to …")
    label.append(Object.assign(document.createElement("span"), { textContent: `Line ${index + 1} · ${group.start.toFixed(1)} s` }), input);
    return label;
  }));
}

// The post copy: its caption, hashtags and each image's alt text are fields of the shared draft like the words
// on screen (an empty field means "as written"). The server cuts the post for each platform (pipeline/post.py)
// and every answer says what each will carry, so the counts shown are the ones L7 delivers.
function postPanel(payload, adjustments, touch, send, controls) {
  const box = $("post-copy");
  const post = payload.originals?.post;
  if (!box || !post) return () => {};
  box.hidden = false;
  const fields = [[$("post-caption"), "post_caption", post.caption], [$("post-hashtags"), "post_hashtags",
    post.hashtags.join(" ")]];
  const slides = payload.plan.scenes.map((scene) => scene.id).filter((id) => id in post.alt_text);
  $("alt-texts").replaceChildren(...slides.map((id, index) => {
    const input = Object.assign(document.createElement("textarea"), { rows: 2, maxLength: 1000 });
    input.dataset.scene = id;
    fields.push([input, `alt_text.${id}`, post.alt_text[id]]);
    const label = document.createElement("label");
    label.append(Object.assign(document.createElement("span"),
      { textContent: slides.length > 1 ? `Alt text, slide ${index + 1}` : "Alt text" }), input);
    return label;
  }));
  for (const [input, field, original] of fields) {
    const show = () => { if (document.activeElement !== input) input.value = fieldValue(adjustments, field) || original; };
    controls.push(show);
    show();
    input.addEventListener("input", () => {
      setField(adjustments, field, input.value.trim() && input.value !== original ? input.value : undefined);
      touch(field);
      send();
    });
  }
  return (data) => {
    $("post-platforms").replaceChildren(...(data.post_texts || []).map((row) => {
      const li = document.createElement("li");
      li.dataset.platform = row.platform;
      li.textContent = `${row.label}: ${row.chars} of ${row.max_chars} characters, ${row.hashtags} of ` +
        `${row.max_hashtags} hashtags${row.shortened ? " (shortened to fit)" : ""}`;
      li.title = row.text;
      return li;
    }));
  };
}

// Approve, skip preview, reject and re-run: they need no preview, so they are bound first, in every mode.
function decisionButtons(desk) {
  const errors = (data) => { $("adjust-errors").textContent = describeErrors(data); };
  const approve = async (confirmOdds = false, confirmKickoff = false) => {
    $("approve").disabled = true;
    // What is approved is the draft everyone sees: this reviewer's last changes are saved into it first.
    // The server renders its own draft, not this page's copy: the page says which draft it shows, and approval
    // is refused ("look again") when someone saved a newer one meanwhile.
    if (studio.draft && !(await studio.draft.flush())) { $("approve").disabled = false; return; }
    const { ok, status, data } = await postJSON(root.dataset.approveUrl,
      { snapshots: desk.snapshots(), confirm_odds: confirmOdds, confirm_kickoff: confirmKickoff,
        draft: studio.draft?.seen });
    if (ok) { studio.approved = data.approved; return; }
    $("approve").disabled = false;
    // Someone saved a newer draft: the page takes it in (whether or not its event arrived) for another look.
    if (status === 409 && data.draft_moved) await studio.draft?.refresh(root.dataset.planUrl);
    // The game has kicked off, or will have when the post goes out: approved only when the reviewer means it.
    if (status === 409 && data.kickoff) {
      $("kickoff-confirm").querySelector("p").textContent = data.kickoff;
      $("kickoff-confirm").hidden = false;
      return;
    }
    if (status === 409 && data.odds_changed) {
      const box = $("odds-changes");
      box.querySelector("ul").replaceChildren(...data.odds_changed.map((c) => {
        const li = document.createElement("li");
        li.textContent = `${c.field}: ${c.old} → ${c.new ?? "gone"}`;
        return li;
      }));
      box.hidden = false;
      return;
    }
    errors(data);
  };
  $("approve").addEventListener("click", () => approve(false));
  $("confirm-odds").addEventListener("click", () => approve(true));
  $("confirm-kickoff").addEventListener("click", () => { $("kickoff-confirm").hidden = true; approve(false, true); });
  $("rerun").addEventListener("click", async () => {
    const { ok, data } = await postJSON(root.dataset.rerunUrl);
    if (!ok) errors(data);
  });
  $("skip-preview")?.addEventListener("click", async (e) => {
    e.target.disabled = true;
    const { ok, data } = await postJSON(root.dataset.skipUrl);
    if (ok) { studio.skipped = true; return; }
    errors(data);
    e.target.disabled = false;
  });
  $("reject-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { ok, data } = await postJSON(root.dataset.rejectUrl, { reason: e.target.reason.value });
    if (ok) { studio.rejected = true; return; }
    errors(data);
  });
}

// ---------------------------------------------------------------------------------------------- history
// "Make this the draft": an earlier plan version's or draft's adjustments become everyone's draft again.
function rollbackButtons() {
  root.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-rollback-version], [data-rollback-draft]");
    if (!button) return;
    const body = button.dataset.rollbackVersion ? { version: Number(button.dataset.rollbackVersion) }
      : { draft: Number(button.dataset.rollbackDraft) };
    button.disabled = true;
    const { ok, data } = await postJSON(root.dataset.rollbackUrl, body);
    button.disabled = false;
    if (!ok) $("adjust-errors").textContent = describeErrors(data);
  });
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
