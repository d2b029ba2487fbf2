// What the browser can do, and so which review mode the page is in.
import { recordingType } from "./recorder.js";

export function capabilities() {
  const canvas = document.createElement("canvas");
  const has2d = Boolean(canvas.getContext && canvas.getContext("2d"));
  const audio = typeof AudioContext === "function";
  const record = has2d && typeof canvas.captureStream === "function" && Boolean(recordingType());
  const mode = !has2d ? "none" : audio && record ? "full" : "partial";
  return { canvas: has2d, audio, record, mode };
}

export const MODE_TEXT = {
  full: "Full preview: frames, audio and recording.",
  partial: "Partial preview: frames and scrubbing; this browser cannot record (or play the audio).",
  none: "This browser cannot draw the preview. Use Skip preview to approve the plan as built and render it.",
};
