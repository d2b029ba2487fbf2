// The preset builder: thumbnails drawn by the real renderer, refreshed as the config changes.
import { postJSON } from "./api.js";

const root = document.getElementById("builder");
const textarea = document.getElementById("id_config");
const thumbs = document.getElementById("thumbs");
const state = document.getElementById("thumb-state");
const errors = document.getElementById("config-errors");
window.builder = { refreshes: 0 };
let timer = 0, inFlight = null;

async function refresh() {
  let config;
  try { config = JSON.parse(textarea.value); } catch (error) {
    errors.replaceChildren(Object.assign(document.createElement("li"), { textContent: `config: not JSON (${error.message})` }));
    return;
  }
  inFlight?.abort();
  inFlight = new AbortController();
  state.textContent = "drawing…";
  try {
    const { ok, data } = await postJSON(root.dataset.thumbnailsUrl, { config }, { signal: inFlight.signal });
    if (!ok) {
      errors.replaceChildren(...Object.entries(data.errors || { config: [data.error] }).map(([field, messages]) =>
        Object.assign(document.createElement("li"), { textContent: `${field}: ${messages.join(", ")}` })));
      state.textContent = "fix the config to see thumbnails";
      return;
    }
    errors.replaceChildren();
    thumbs.replaceChildren(...data.thumbnails.map((thumb) => {
      const figure = document.createElement("figure");
      const img = Object.assign(document.createElement("img"), { src: thumb.src, alt: thumb.label, width: 180 });
      figure.append(img, Object.assign(document.createElement("figcaption"), { textContent: thumb.label }));
      return figure;
    }));
    state.textContent = "";
    window.builder.refreshes += 1;
  } catch (error) {
    if (error.name !== "AbortError") state.textContent = error.message;
  }
}

textarea.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 400); });
refresh();
