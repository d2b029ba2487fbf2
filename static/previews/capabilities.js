// What the browser can do, and so which review mode the page is in.
import { recordingPlan } from "./recorder.js";

export function capabilities() {
  const canvas = document.createElement("canvas");
  const has2d = Boolean(canvas.getContext && canvas.getContext("2d"));
  const audio = typeof AudioContext === "function";
  const recording = has2d && typeof canvas.captureStream === "function" ? recordingPlan() : null;
  const record = Boolean(recording);
  // The live canvas needs a 2D canvas and Web Audio; recording is offered where the browser can record (WebKit
  // without its GStreamer encoders, or Firefox at times, report no type), not made a condition of the preview.
  const mode = !has2d ? "none" : audio ? "full" : "partial";
  return { canvas: has2d, audio, record, recording, mode };
}

export const MODE_TEXT = {
  full: "Full preview: frames, audio and recording.",
  unrecorded: "Full preview: frames and audio (this browser cannot record the preview; the rendered file is the "
    + "one to download).",
  partial: "Static preview: this browser cannot play the preview with its audio, so these frames "
    + "are drawn by the server. Adjustments redraw them; Approve, Skip preview and Reject work as usual.",
  none: "This browser cannot draw the preview. Approve renders the plan as built; Skip preview does the same "
    + "without looking; Reject sends it back.",
};
