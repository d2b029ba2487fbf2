// Variants side by side: each one plays on the review page's own canvas and player (a reel, with its sound), its
// scenes' frames beneath, an approve button per variant; the cards follow the jobs live over the studio's socket
// (a variant still being made appears when its plan is ready, not after four reloads).
import { describeErrors, getJSON, postJSON } from "./api.js";
import { PreviewCanvas } from "./canvas.js";
import { Player } from "./player.js";
import { LiveSocket, STATUS_TEXT } from "./socket.js";

const root = document.getElementById("variants");
window.variants = { loaded: 0, players: new Map() };
const cards = new Map([...document.querySelectorAll(".variant")].map((card) => [card.dataset.job, card]));

// The scenes' frames: a strip under a reel's player; a still's image or a carousel's slides as large as the card
// allows, since they are what will be posted.
async function frames(card, width) {
  const { ok, data } = await getJSON(card.dataset.framesUrl);
  const strip = card.querySelector("[data-frames]");
  if (!ok) { strip.textContent = data.error || "the plan is not ready yet"; return false; }
  strip.replaceChildren(...data.frames.map((frame) =>
    Object.assign(document.createElement("img"), { src: frame.src, alt: frame.scene, width })));
  return true;
}

// A reel plays on its card; a carousel or a still is its frames (it has no time to play through).
async function player(card, data) {
  const canvas = card.querySelector("canvas");
  const button = card.querySelector("[data-play]");
  canvas.hidden = false;
  const view = new PreviewCanvas(canvas);
  view.setPlan(data);
  const play = new Player(view, { onState: (playing) => { button.textContent = playing ? "Pause" : "Play"; } });
  await view.preload(() => {}, () => play.show(0, true));
  await play.loadAudio();
  window.variants.players.set(card.dataset.job, play);
  button.hidden = false;
  button.addEventListener("click", () => {
    // One at a time: two reels' sound over each other helps nobody choose.
    for (const [job, other] of window.variants.players) if (job !== card.dataset.job && other.playing) other.pause();
    if (play.playing) play.pause(); else play.play();
  });
}

async function ready(card) {
  if (card.dataset.loaded) return;
  card.dataset.loaded = "1";
  const { ok, data } = await getJSON(card.dataset.planUrl);
  const reel = ok && !data.slide_times.length;
  const many = ok && data.slide_times.length > 1;
  // The frames are drawn 180 px wide (previews/selectors.py FRAME_WIDTH): a still is shown at that, not blown up.
  if (ok && await frames(card, reel ? 72 : many ? 132 : 180)) {
    if (reel) await player(card, data);
    window.variants.loaded += 1;
  } else {
    delete card.dataset.loaded;
  }
}

function show(card, status) {
  card.dataset.state = status;
  const chip = card.querySelector("[data-status]");
  chip.textContent = STATUS_TEXT[status] || status;
  chip.className = `status status-${status}`;
  const approve = card.querySelector("[data-approve]");
  approve.hidden = status !== "awaiting_review" || !approve.dataset.allowed;
  if (status === "awaiting_review") ready(card);
  const result = card.querySelector("[data-result]");
  if (["approved", "rendering", "scheduled", "done"].includes(status)) {
    result.innerHTML = "";
    result.append(status === "done" ? "Rendered: " : "Chosen: the render follows on ",
      Object.assign(document.createElement("a"), { href: card.dataset.jobUrl, textContent: "its page" }), ".");
  } else if (status === "rejected") {
    result.textContent = "Not chosen.";
  }
}

for (const card of cards.values()) {
  show(card, card.dataset.state);
  card.querySelector("[data-approve]").addEventListener("click", async (event) => {
    event.target.disabled = true;
    const { ok, data } = await postJSON(card.dataset.approveUrl, { confirm_odds: false });
    event.target.disabled = false;
    if (!ok) { card.querySelector("[data-result]").textContent = describeErrors(data); return; }
    show(card, data.status);  // the others follow by their own events (rejected)
  });
}

new LiveSocket("/ws/studio/", {
  since: Number(root.dataset.lastEvent), cursor: "id",
  onState: (up) => document.getElementById("live-dot").classList.toggle("up", up),
  onEvent: (event) => {
    const card = cards.get(event.job);
    if (card && event.type === "job.status") show(card, event.payload.to);
  },
});
