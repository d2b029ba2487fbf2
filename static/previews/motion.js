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

export const HIDDEN = Object.freeze({ alpha: 0, dx: 0, dy: 0, scale: 1 });

export function layerState(layer, t) {
  if (t < layer.start || t >= layer.end) return HIDDEN;
  const m = layer.motion;
  let alpha = layer.opacity, dx = 0, dy = 0, scale = 1;
  if (m.enter !== "none" && m.enter_s > 0) {
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
  return { alpha, dx, dy, scale };
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

// [group, word] of a caption layer shown at time t (caption_state in pipeline/motion.py).
export function captionState(layer, t) {
  if (t < layer.start || t >= layer.end) return [null, null];
  for (let g = 0; g < layer.groups.length; g++) {
    const group = layer.groups[g];
    if (group.start <= t && t < group.end) {
      for (let w = 0; w < group.words.length; w++) {
        const word = group.words[w];
        if (word.start <= t && t < word.end) return [g, w];
      }
      return [g, null];
    }
  }
  return [null, null];
}
