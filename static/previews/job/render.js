// The render panel: from approval on it is the first thing under the header, its bar follows L6's progress step by
// step, and the Delivery panel moves the slot or delivers now.
import { describeErrors, postJSON } from "../api.js";
import { $, root } from "./page.js";

// From approval on, the render's panel is the first thing under the header: while it runs it is what the reviewer
// waits for, and after it the video and its downloads are what the page is for.
export function renderPanelOnTop() {
  const panel = $("render-panel");
  panel.hidden = false;
  root.querySelector(".job-head").after(panel);
}

// L6's progress as the page shows it: "NN % · step" (the steps are named by jobs' Heartbeat.progress).
export function showRenderProgress(fraction, message) {
  $("render-bar").value = Math.round(fraction * 100);
  $("render-step").textContent = `${Math.round(fraction * 100)} % · ${message || "rendering"}`;
}

// The slot is sent as an instant (ISO with its offset): the picker shows the reviewer's local time.
async function sendDelivery(body) {
  const { ok, data } = await postJSON(root.dataset.deliveryUrl, body);
  if (ok) { location.reload(); return; }
  $("delivery-error").textContent = describeErrors(data);
}

export function bindDelivery() {
  $("delivery-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const local = new Date(e.target.elements.publish_at.value);
    if (Number.isNaN(local.getTime())) { $("delivery-error").textContent = "pick a date and time"; return; }
    sendDelivery({ publish_at: local.toISOString() });
  });
}
