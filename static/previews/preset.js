// The preset editor: a form per section and the JSON (advanced view) kept in step, both validated by the
// server field by field, and thumbnails drawn by the real renderer from the preset's sample plan.
import { postJSON } from "./api.js";

const root = document.getElementById("builder");
const editor = document.getElementById("editor");
const textarea = document.getElementById("id_config");
const thumbs = document.getElementById("thumbs");
const state = document.getElementById("thumb-state");
const errors = document.getElementById("config-errors");
const platformZones = JSON.parse(editor.dataset.platformZones);
const PARTS = { hook: "Hook", matchup: "Matchup", props: "Props", cta: "Call to action" };
const DEFAULT_ORDER = ["hook", "matchup", "props", "cta"];
window.builder = { refreshes: 0, redrawMs: [] };
let config = {};
let timer = 0, inFlight = null;

// ---------------------------------------------------------------------------------------------- paths
function get(path) {
  return path.split(".").reduce((value, key) => (value == null ? undefined : value[key]), config);
}

function set(path, value) {
  const keys = path.split(".");
  let node = config;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key];
  }
  if (value === undefined) delete node[keys.at(-1)];
  else node[keys.at(-1)] = value;
}

// ---------------------------------------------------------------------------------------------- form <- config
function fill() {
  for (const control of editor.querySelectorAll(".control")) {
    const { path, kind } = control.dataset;
    const input = control.querySelector("[data-input]");
    const value = get(path);
    if (kind === "number" || kind === "text") input.value = value ?? "";
    else if (kind === "checkbox") input.checked = Boolean(value);
    else if (kind === "select") input.value = value ?? input.options[0]?.value;
    else if (kind === "font") input.value = value?.file ?? "";
    else if (kind === "palette_pick") {
      const palette = get("brand.palette") || [];
      input.replaceChildren(...palette.map((hex) => {
        const option = new Option(hex, hex, false, hex === value);
        option.style.background = hex;
        return option;
      }));
      input.value = value ?? "";
    } else if (kind === "palette") swatches(control);
    else if (kind === "order") order(control);
    else if (kind === "zones") zones(control);
  }
}

function swatches(control) {
  const box = control.querySelector("[data-widget]");
  const palette = get("brand.palette") || [];
  box.replaceChildren(...palette.map((hex, index) => {
    const chip = document.createElement("span");
    chip.className = "swatch";
    const picker = Object.assign(document.createElement("input"), { type: "color", value: hex.toLowerCase() });
    picker.dataset.index = index;
    picker.addEventListener("input", () => {
      const next = [...get("brand.palette")];
      const old = next[index];
      next[index] = picker.value.toUpperCase();
      set("brand.palette", next);
      // A colour in use follows its swatch, so text and accent colours stay inside the palette.
      for (const pick of ["brand.text_color", "brand.accent_color"]) if (get(pick) === old) set(pick, next[index]);
      changed({ refill: false });
    });
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "×", title: "remove" });
    remove.addEventListener("click", () => {
      set("brand.palette", get("brand.palette").filter((_, i) => i !== index));
      changed();
    });
    chip.append(picker, remove);
    return chip;
  }));
}

function order(control) {
  const list = control.querySelector("[data-widget]");
  const parts = get("segments.order") || DEFAULT_ORDER;
  list.replaceChildren(...parts.map((part, index) => {
    const item = document.createElement("li");
    item.dataset.part = part;
    item.append(PARTS[part] || part);
    for (const [label, step] of [["↑", -1], ["↓", 1]]) {
      const move = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      move.disabled = index + step < 0 || index + step >= parts.length;
      move.addEventListener("click", () => {
        const next = [...parts];
        [next[index], next[index + step]] = [next[index + step], next[index]];
        set("segments.order", next);
        changed();
      });
      item.append(" ", move);
    }
    return item;
  }));
}

function zones(control) {
  const own = get("layout.safe_zones");
  const platform = platformZones[get("format.kind")] || {};
  control.querySelector("[data-platform]").checked = own == null;
  for (const input of control.querySelectorAll("[data-side]")) {
    input.value = (own ?? platform)[input.dataset.side] ?? 0;
    input.disabled = own == null;
  }
}

// ---------------------------------------------------------------------------------------------- config <- form
function read(control, target) {
  const { path, kind } = control.dataset;
  const input = control.querySelector("[data-input]");
  if (kind === "number") set(path, input.value === "" ? undefined : Number(input.value));
  else if (kind === "checkbox") set(path, input.checked);
  else if (kind === "text" || kind === "select" || kind === "palette_pick") set(path, input.value);
  else if (kind === "font") {
    const option = input.selectedOptions[0];
    set(path, { family: option.dataset.family, file: option.value });
  } else if (kind === "zones") {
    if (control.querySelector("[data-platform]").checked) set(path, null);
    else {
      const sides = {};
      for (const side of control.querySelectorAll("[data-side]")) sides[side.dataset.side] = Number(side.value || 0);
      set(path, sides);
    }
    if (target?.dataset.platform !== undefined) zones(control);
  }
}

function changed({ refill = true } = {}) {
  textarea.value = JSON.stringify(config, null, 2);
  if (refill) fill();
  schedule();
}

editor.addEventListener("input", (event) => {
  const control = event.target.closest(".control");
  if (!control || event.target.type === "color") return;
  read(control, event.target);
  const kind = control.dataset.kind;
  changed({ refill: kind === "zones" || kind === "palette" });
});
editor.addEventListener("change", (event) => {
  const control = event.target.closest(".control");
  if (control && (event.target.tagName === "SELECT" || event.target.type === "checkbox")) {
    read(control, event.target);
    changed({ refill: control.dataset.kind === "zones" });
  }
});
editor.querySelector("[data-add]")?.addEventListener("click", () => {
  set("brand.palette", [...(get("brand.palette") || []), "#808080"]);
  changed();
});

textarea.addEventListener("input", () => {
  try { config = JSON.parse(textarea.value); } catch (error) {
    showErrors({ config: [`not JSON (${error.message})`] });
    return;
  }
  fill();
  schedule();
});

// ---------------------------------------------------------------------------------------------- errors, thumbnails
function showErrors(found) {
  for (const list of editor.querySelectorAll("[data-errors]")) list.replaceChildren();
  const general = [];
  for (const [field, messages] of Object.entries(found)) {
    // The control for the field, or for the nearest enclosing path (brand.palette.2 -> brand.palette).
    let path = field, control = null;
    while (path && !(control = editor.querySelector(`.control[data-path="${CSS.escape(path)}"]`))) {
      path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
    }
    const item = (text) => Object.assign(document.createElement("li"), { textContent: text });
    if (control) control.querySelector("[data-errors]").append(...messages.map((m) => item(`${field}: ${m}`)));
    else general.push(...messages.map((m) => item(`${field}: ${m}`)));
    control?.classList.add("has-error");
  }
  errors.replaceChildren(...general);
  for (const control of editor.querySelectorAll(".control.has-error")) {
    if (!control.querySelector("[data-errors] li")) control.classList.remove("has-error");
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 120);
}

async function refresh() {
  inFlight?.abort();
  inFlight = new AbortController();
  state.textContent = "drawing…";
  const started = performance.now();
  try {
    const { ok, data } = await postJSON(root.dataset.thumbnailsUrl, { config }, { signal: inFlight.signal });
    if (!ok) {
      showErrors(data.errors || { config: [data.error] });
      state.textContent = "fix the fields marked to see thumbnails";
      return;
    }
    showErrors({});
    const images = data.thumbnails.map((thumb) => {
      const figure = document.createElement("figure");
      const img = Object.assign(document.createElement("img"), { src: thumb.src, alt: thumb.label, width: 180 });
      figure.append(img, Object.assign(document.createElement("figcaption"), { textContent: thumb.label }));
      return figure;
    });
    await Promise.all(images.map((figure) => figure.querySelector("img").decode()));
    thumbs.replaceChildren(...images);
    // What each part lasts in the sample, beside what the preset sets, and why they differ (the narration's
    // length, the music's beat): the server's own timing rule says it (pipeline/layers/l4_audio).
    const lengths = document.getElementById("lengths");
    lengths.hidden = !data.lengths.length;
    lengths.tBodies[0].replaceChildren(...data.lengths.map((row) => {
      const tr = document.createElement("tr");
      for (const text of [row.segment, `${row.set_s.toFixed(1)} s`, `${row.out_s.toFixed(1)} s`, row.why]) {
        tr.append(Object.assign(document.createElement("td"), { textContent: text }));
      }
      return tr;
    }));
    const ms = performance.now() - started;
    window.builder.redrawMs.push(ms);
    document.getElementById("thumb-time").textContent = `Redrawn in ${Math.round(ms)} ms.`;
    state.textContent = "";
    window.builder.refreshes += 1;
  } catch (error) {
    if (error.name !== "AbortError") state.textContent = error.message;
  }
}

try { config = JSON.parse(textarea.value); } catch { config = {}; }
fill();
refresh();
