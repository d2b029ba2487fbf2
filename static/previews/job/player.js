// The preview: the live canvas with its audio (a reel), the slides (a carousel or a still), or frames drawn by the
// server; the transport and the page's keys; the recording of the preview.
import { describeErrors, postJSON } from "../api.js";
import { PreviewCanvas } from "../canvas.js";
import { Player } from "../player.js";
import { Recorder } from "../recorder.js";
import { adjustPanel } from "./adjust.js";
import { $, root, studio } from "./page.js";

// The page's keys, as a video editor's: Space or K plays and pauses, ← and → step a frame (with Shift, a second),
// J and L a second back and on; Ctrl+Z and Ctrl+Shift+Z (or Ctrl+Y) undo and redo this reviewer's own changes.
// Typing in a field keeps its own keys (its text's undo included). A carousel's ← and → move between slides.
export function keys(desk) {
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

export function showMode(mode, text) {
  $("capabilities").textContent = text;
  $("capabilities").dataset.mode = mode;
  studio.mode = mode;
}

export function hideStage() {
  for (const id of ["preview", "preload", "transport", "static-preview"]) if ($(id)) $(id).hidden = true;
}

export async function canvasPreview(payload, caps, desk) {
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
  window.addEventListener("pagehide", () => { recorder.revoke(); player.close(); view.release(); studio.socket?.close(); });

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
  window.addEventListener("pagehide", () => { view.release(); studio.socket?.close(); });
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
export async function staticPreview(payload, desk) {
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
