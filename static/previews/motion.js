// The motion set, mirrored line for line from pipeline/motion.py (tests hold the two together).

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export function ease(name, p) {
  p = clamp(p, 0, 1);
  switch (name) {
    case "ease_out_cubic": return 1 - (1 - p) ** 3;
    case "ease_in_out_cubic": return p < 0.5 ? 4 * p ** 3 : 1 - (-2 * p + 2) ** 3 / 2;
    case "ease_out_back": { const c1 = 1.70158; return 1 + (c1 + 1) * (p - 1) ** 3 + c1 * (p - 1) ** 2; }
    default: return p;
  }
}

export const HIDDEN = Object.freeze({ alpha: 0, dx: 0, dy: 0, scale: 1, sx: 1, sy: 1 });

export function layerState(layer, t) {
  if (t < layer.start || t >= layer.end) return HIDDEN;
  const m = layer.motion;
  let alpha = layer.opacity, dx = 0, dy = 0, scale = 1, sx = 1, sy = 1;
  if ((m.enter === "grow_up" || m.enter === "grow_right") && m.enter_s > 0) {
    const grown = clamp(ease(m.easing, (t - layer.start) / m.enter_s), 0, 1);
    if (m.enter === "grow_up") sy = grown;
    else sx = grown;
  } else if (m.enter !== "none" && m.enter_s > 0) {
    const p = (t - layer.start) / m.enter_s;
    const e = ease(m.easing, p);
    alpha *= clamp(m.enter === "pop" ? p : e, 0, 1);
    const remaining = 1 - e;
    if (m.enter === "slide_up") dy = remaining * m.distance;
    else if (m.enter === "slide_left") dx = remaining * m.distance;
    else if (m.enter === "slide_right") dx = -remaining * m.distance;
    else if (m.enter === "pop") scale = 0.8 + 0.2 * ease("ease_out_back", p);
  }
  if (m.exit === "fade" && m.exit_s > 0) alpha *= clamp((layer.end - t) / m.exit_s, 0, 1);
  return { alpha, dx, dy, scale, sx, sy };
}

// (x, y, width, height) of a growing shape's box (grown_box in pipeline/motion.py).
export function grownBox(box, state) {
  const width = box.width * state.sx, height = box.height * state.sy;
  return [box.x, box.y + box.height - height, width, height];
}

export function kenburnsView(background, scene, t, imageSize, outSize) {
  const [iw, ih] = imageSize;
  const [ow, oh] = outSize;
  const cover = Math.max(ow / iw, oh / ih);
  const kb = background.kenburns;
  let zoom = 1, cx = 0.5, cy = 0.5;
  if (kb) {
    const span = scene.end - scene.start;
    const p = ease(kb.easing, span > 0 ? (t - scene.start) / span : 1);
    zoom = kb.from_scale + (kb.to_scale - kb.from_scale) * p;
    cx = kb.from_x + (kb.to_x - kb.from_x) * p;
    cy = kb.from_y + (kb.to_y - kb.from_y) * p;
  }
  const width = ow / (cover * zoom), height = oh / (cover * zoom);
  const x = Math.min(Math.max(cx * iw - width / 2, 0), iw - width);
  const y = Math.min(Math.max(cy * ih - height / 2, 0), ih - height);
  return [x, y, width, height];
}

// [the scene before, eased progress] while a scene's transition runs at t; null otherwise (transition_at).
export function transitionAt(scenes, t) {
  for (let i = 0; i < scenes.length; i++) {
    const scene = scenes[i];
    if (scene.start <= t && t < scene.end) {
      if (i === 0 || !scene.transition) return null;
      const p = (t - scene.start) / scene.transition.duration;
      return p < 1 ? [scenes[i - 1], ease("ease_in_out_cubic", p)] : null;
    }
  }
  return null;
}

export const heldTime = (scene) => Math.max(scene.start, scene.end - 1e-4);

// Python's round(): halves to even, so the push's rows match L6's.
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// [the scene before's dy, the new scene's dy, its scale, its opacity] at progress p (transition_look).
export function transitionLook(kind, p, height) {
  if (kind === "push") {
    const offset = 2 * roundHalfEven((1 - p) * height / 2);
    return [offset - height, offset, 1, 1];
  }
  if (kind === "zoom") return [0, 0, 1 + 0.18 * (1 - p), p];
  return [0, 0, 1, p];
}

// The number a counting text shows at t in place of its own (count_text in pipeline/motion.py); null otherwise.
export function countText(layer, t) {
  const count = layer.count;
  if (!count || t < layer.start || t >= layer.start + count.duration) return null;
  const [whole, fraction = ""] = count.number.split(".");
  const scaled = parseInt(whole + fraction, 10);
  const steps = Math.floor(scaled * ease("ease_out_cubic", (t - layer.start) / count.duration));
  if (!fraction) return String(steps);
  const digits = String(steps).padStart(fraction.length + 1, "0");
  return `${digits.slice(0, -fraction.length)}.${digits.slice(-fraction.length)}`;
}

// [group, word] of a caption layer shown at time t (caption_state in pipeline/motion.py).
export function captionState(layer, t) {
  if (t < layer.start || t >= layer.end) return [null, null];
  for (let g = 0; g < layer.groups.length; g++) {
    const group = layer.groups[g];
    if (group.start <= t && t < group.end) {
      if (group.shown === false) return [null, null];
      for (let w = 0; w < group.words.length; w++) {
        const word = group.words[w];
        if (word.start <= t && t < word.end) return [g, w];
      }
      return [g, null];
    }
  }
  return [null, null];
}
