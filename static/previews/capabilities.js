// What the browser can do, and so which review mode the page is in.
import { recordingPlan } from "./recorder.js";

export function capabilities() {
  const canvas = document.createElement("canvas");
  const has2d = Boolean(canvas.getContext && canvas.getContext("2d"));
  const audio = typeof AudioContext === "function";
  const recording = has2d && typeof canvas.captureStream === "function" ? recordingPlan() : null;
  const record = Boolean(recording);
  const mode = !has2d ? "none" : audio && record ? "full" : "partial";
  return { canvas: has2d, audio, record, recording, mode };
}

export const MODE_TEXT = {
  full: "Full preview: frames, audio and recording.",
  partial: "Static preview: this browser cannot play the preview with its audio or record it, so these frames "
    + "are drawn by the server. Adjustments redraw them; Approve, Skip preview and Reject work as usual.",
  none: "This browser cannot draw the preview. Approve renders the plan as built; Skip preview does the same "
    + "without looking; Reject sends it back.",
};
