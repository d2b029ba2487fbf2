// Variants side by side: every scene's frame of each, and an approve button per variant.
import { describeErrors, getJSON, postJSON } from "./api.js";

window.variants = { loaded: 0 };
const cards = [...document.querySelectorAll(".variant")];

async function load(card) {
  const { ok, data } = await getJSON(card.dataset.framesUrl);
  const strip = card.querySelector("[data-frames]");
  if (!ok) { strip.textContent = data.error || "the plan is not ready yet"; return; }
  strip.replaceChildren(...data.frames.map((frame) =>
    Object.assign(document.createElement("img"), { src: frame.src, alt: frame.scene, width: 110 })));
  window.variants.loaded += 1;
}

for (const card of cards) {
  load(card);
  card.querySelector("[data-approve]")?.addEventListener("click", async (event) => {
    event.target.disabled = true;
    const { ok, data } = await postJSON(card.dataset.approveUrl, { adjustments: {}, confirm_odds: false });
    if (!ok) { card.querySelector("[data-result]").textContent = describeErrors(data); event.target.disabled = false; return; }
    location.reload();
  });
}
