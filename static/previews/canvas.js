// PreviewCanvas: draws a RenderPlan at any time t, the way L6's compositor does (pipeline/render/compositor.py).
// Text layers are composited from the sprites L6's compositor drew (payload.sprites: pipeline/render/sprites.py),
// so every browser shows L6's glyphs, and a fade or a pop applies to the finished text as one image, as in L6.
// Until a sprite has arrived (or where the server has none) the text is set here from the plan's lines.
import {
  captionState, countText, grownBox, heldTime, kenburnsView, layerState, transitionAt, transitionLook,
} from "./motion.js";

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export class PreviewCanvas {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.images = new Map();   // asset path -> ImageBitmap
    this.fonts = new Map();    // family -> FontFace
    this.sprites = new Map();  // sprite url -> ImageBitmap (names are content hashes: they never go stale)
    this.payload = null;
    this.showZones = false;    // outline the platform's safe zones (a guide: never in snapshots or renders)
  }

  get plan() { return this.payload.plan; }

  setPlan(payload) {
    this.payload = payload;
    if (this.canvas.width !== payload.plan.width) this.canvas.width = payload.plan.width;
    if (this.canvas.height !== payload.plan.height) this.canvas.height = payload.plan.height;
  }

  // The sprites this plan uses that are not here yet (after an adjustment: only the layers it changed).
  async loadSprites(signal) {
    const wanted = Object.values(this.payload.sprites || {}).filter((s) => !this.sprites.has(s.url));
    await Promise.all(wanted.map(async (sprite) => {
      try {
        const response = await fetch(sprite.url, { credentials: "same-origin", signal });
        if (!response.ok) return;   // none on the server: the text is set here
        this.sprites.set(sprite.url, await createImageBitmap(await response.blob()));
      } catch (error) {
        if (error.name === "AbortError") throw error;
      }
    }));
  }

  spriteOf(layer) {
    const sprite = this.payload.sprites?.[layer.id];
    const bitmap = sprite && this.sprites.get(sprite.url);
    return bitmap ? { ...sprite, bitmap } : null;
  }

  assetUrl(path) { return this.payload.files_url + path; }

  assetPaths() {
    const paths = new Set();
    for (const scene of this.plan.scenes) {
      if (scene.background.asset) paths.add(scene.background.asset);
      for (const layer of scene.layers) if (layer.type === "image") paths.add(layer.asset);
    }
    for (const layer of this.plan.overlay) if (layer.type === "image") paths.add(layer.asset);
    return [...paths];
  }

  async loadFonts() {
    await Promise.all(this.plan.fonts.map(async (font) => {
      if (this.fonts.has(font.family)) return;
      const face = new FontFace(font.family, `url(${this.payload.fonts_url}${font.file})`);
      await face.load();
      document.fonts.add(face);
      this.fonts.set(font.family, face);
    }));
  }

  async loadImage(path, signal) {
    if (this.images.has(path)) return;
    const response = await fetch(this.assetUrl(path), { credentials: "same-origin", signal });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    this.images.set(path, await createImageBitmap(await response.blob()));
  }

  // Fonts and the first scene's pictures first (so a frame can be drawn), then the rest.
  async preload(onProgress = () => {}, onFirstReady = () => {}) {
    const paths = this.assetPaths();
    const first = this.plan.scenes[0].background.asset;
    const total = paths.length + 1;
    let done = 0;
    const tick = () => onProgress(++done / total);
    await Promise.all([this.loadFonts().then(tick), this.loadSprites(),
      first ? this.loadImage(first).then(tick) : Promise.resolve(tick())]);
    onFirstReady();
    await Promise.all(paths.filter((p) => p !== first).map((p) => this.loadImage(p).then(tick)));
    onProgress(1);
  }

  sceneAt(t) {
    const scenes = this.plan.scenes;
    for (const scene of scenes) if (scene.start <= t && t < scene.end) return scene;
    return t >= scenes[scenes.length - 1].start ? scenes[scenes.length - 1] : scenes[0];
  }

  drawAt(t) {
    const { ctx, plan } = this;
    const scene = this.sceneAt(t);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = true;
    const moving = transitionAt(plan.scenes, t);
    if (!moving) this.drawScene(scene, t);
    else this.drawTransition(moving[0], scene, t, moving[1]);
    for (const layer of plan.overlay) this.drawLayer(layer, t);
    if (this.showZones) this.drawZones();
  }

  // A scene's background and its own layers at t, on this.ctx.
  drawScene(scene, t) {
    const { ctx, plan } = this;
    const bg = scene.background;
    const image = bg.asset ? this.images.get(bg.asset) : null;
    if (image) {
      const [x, y, w, h] = kenburnsView(bg, scene, t, [image.width, image.height], [plan.width, plan.height]);
      ctx.drawImage(image, x, y, w, h, 0, 0, plan.width, plan.height);
    } else {
      ctx.fillStyle = bg.color;
      ctx.fillRect(0, 0, plan.width, plan.height);
    }
    for (const layer of scene.layers) this.drawLayer(layer, t);
  }

  // The scene drawn on a canvas of its own (a transition's two sides are composited as whole pictures, as L6
  // blends its two frames).
  offscreen(index, scene, t) {
    this.sides ??= [document.createElement("canvas"), document.createElement("canvas")];
    const side = this.sides[index];
    if (side.width !== this.plan.width) side.width = this.plan.width;
    if (side.height !== this.plan.height) side.height = this.plan.height;
    const main = this.ctx;
    this.ctx = side.getContext("2d", { alpha: false });
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.globalAlpha = 1;
    try { this.drawScene(scene, t); } finally { this.ctx = main; }
    return side;
  }

  // The new scene coming in over the one before it, held at its last moment (transition_look in motion.js).
  drawTransition(before, scene, t, p) {
    const { ctx, plan } = this;
    const held = this.offscreen(0, before, heldTime(before));
    const coming = this.offscreen(1, scene, t);
    const [oldDy, newDy, scale, alpha] = transitionLook(scene.transition.kind, p, plan.height);
    ctx.save();
    ctx.drawImage(held, 0, oldDy);
    ctx.globalAlpha = alpha;
    ctx.translate(plan.width / 2, plan.height / 2 + newDy);
    ctx.scale(scale, scale);
    ctx.drawImage(coming, -plan.width / 2, -plan.height / 2);
    ctx.restore();
  }

  drawZones() {
    const { ctx } = this;
    ctx.save();
    ctx.globalAlpha = 1;
    ctx.lineWidth = Math.max(2, this.plan.width / 360);
    ctx.setLineDash([12, 8]);
    for (const zone of this.plan.safe_zones || []) {
      const { x, y, width, height } = zone.box;
      ctx.fillStyle = "rgba(255, 59, 92, 0.18)";
      ctx.fillRect(x, y, width, height);
      ctx.strokeStyle = "rgba(255, 59, 92, 0.9)";
      ctx.strokeRect(x, y, width, height);
    }
    ctx.restore();
  }

  textBounds(layer) {
    const left = Math.min(...layer.lines.map((l) => l.x));
    const right = Math.max(...layer.lines.map((l) => l.x + l.width));
    const top = Math.min(...layer.lines.map((l) => l.y));
    const bottom = Math.max(...layer.lines.map((l) => l.y)) + layer.size * Math.max(layer.line_height, 1.3);
    return [left, top, right, bottom];
  }

  // One formula for the box behind a highlighted caption word (highlight_box in pipeline/design.py).
  highlightBox(word, group, layer) {
    const pad = layer.size * 0.14;
    const top = group.lines_y[word.line];
    return [Math.round(word.x - pad), Math.round(top - 0.1 * layer.size), Math.round(word.width + 2 * pad),
      Math.round(layer.size * (layer.line_height + 0.3)), Math.round(layer.size * 0.18)];
  }

  drawCaptions(layer, t) {
    const [g, w] = captionState(layer, t);
    if (g === null) return;
    const { ctx } = this;
    const group = layer.groups[g];
    const font = this.plan.fonts.find((f) => f.family === layer.font);
    const ascent = font.ascent * layer.size;
    const stroke = Math.round(layer.stroke_width);
    ctx.save();
    ctx.font = `${layer.size}px "${layer.font}"`;
    ctx.textBaseline = "alphabetic";
    ctx.textAlign = "left";
    ctx.lineJoin = "round";
    const draw = (word, fill, outline) => {
      const baseline = group.lines_y[word.line] + ascent;
      if (outline && stroke > 0 && layer.stroke_color) {
        ctx.lineWidth = 2 * stroke;   // Pillow's stroke_width is the distance outside the glyph
        ctx.strokeStyle = layer.stroke_color;
        ctx.strokeText(word.text, word.x, baseline);
      }
      ctx.fillStyle = fill;
      ctx.fillText(word.text, word.x, baseline);
    };
    // As L6 does: the group plain first, then the spoken word's highlight over it.
    for (const word of group.words) draw(word, layer.color, true);
    if (w !== null) {
      const word = group.words[w];
      if (layer.highlight === "box") {
        const [x, y, bw, bh, radius] = this.highlightBox(word, group, layer);
        ctx.fillStyle = layer.highlight_color;
        ctx.beginPath();
        ctx.roundRect(x, y, bw, bh, radius);
        ctx.fill();
        draw(word, layer.box_color, false);
      } else {
        draw(word, layer.highlight_color, true);
      }
    }
    ctx.restore();
  }

  drawLayer(layer, t) {
    if (layer.type === "captions") { this.drawCaptions(layer, t); return; }
    const state = layerState(layer, t);
    if (state.alpha <= 0) return;
    const { ctx } = this;
    ctx.save();
    ctx.globalAlpha = state.alpha;
    // L6 moves pre-drawn sprites by whole pixels.
    ctx.translate(Math.round(state.dx), Math.round(state.dy));
    // A counter running up is set here on the finished text's lines (its sprite shows the final number).
    const counted = layer.type === "text" ? countText(layer, t) : null;
    const sprite = layer.type === "text" && counted === null ? this.spriteOf(layer) : null;
    if (state.scale !== 1) {
      // About the sprite's centre, as L6 scales it.
      const [l, tp, r, b] = sprite ? [sprite.x, sprite.y, sprite.x + sprite.width, sprite.y + sprite.height]
        : layer.type === "text" ? this.textBounds(layer)
          : [layer.box.x, layer.box.y, layer.box.x + layer.box.width, layer.box.y + layer.box.height];
      const cx = (l + r) / 2, cy = (tp + b) / 2;
      ctx.translate(cx, cy);
      ctx.scale(state.scale, state.scale);
      ctx.translate(-cx, -cy);
    }
    if (sprite) ctx.drawImage(sprite.bitmap, sprite.x, sprite.y);
    else if (counted !== null) {
      this.drawText({ ...layer, lines: layer.lines.map((line) => ({ ...line, text: line.text.replace(layer.count.number, counted) })) });
    } else if (layer.type === "text") this.drawText(layer);
    else if (layer.type === "shape") {
      if (state.sx < 1 || state.sy < 1) {
        // A growing bar: drawn anew in the part of its box grown so far, as L6 draws it.
        const [x, y, w, h] = grownBox(layer.box, state);
        if (w >= 1 && h >= 1) this.drawShape(layer, { x, y, width: w, height: h });
      } else this.drawShape(layer);
    }
    else if (layer.type === "image") {
      const image = this.images.get(layer.asset);
      if (image) ctx.drawImage(image, Math.round(layer.box.x), Math.round(layer.box.y),
        Math.round(layer.box.width), Math.round(layer.box.height));
    }
    ctx.restore();
  }

  drawText(layer) {
    const { ctx } = this;
    const font = this.plan.fonts.find((f) => f.family === layer.font);
    const ascent = font.ascent * layer.size;
    ctx.font = `${layer.size}px "${layer.font}"`;
    ctx.textBaseline = "alphabetic";
    ctx.textAlign = "left";
    const stroke = Math.round(layer.stroke_width);
    for (const line of layer.lines) {
      const baseline = line.y + ascent;
      if (stroke > 0 && layer.stroke_color) {
        ctx.lineJoin = "round";
        ctx.lineWidth = 2 * stroke;   // Pillow's stroke_width is the distance outside the glyph
        ctx.strokeStyle = layer.stroke_color;
        ctx.strokeText(line.text, line.x, baseline);
      }
      ctx.fillStyle = layer.color;
      ctx.fillText(line.text, line.x, baseline);
    }
  }

  drawShape(layer, box = layer.box) {
    const { ctx } = this;
    const x = Math.round(box.x), y = Math.round(box.y);
    const w = Math.max(1, Math.round(box.width)), h = Math.max(1, Math.round(box.height));
    ctx.fillStyle = rgba(layer.fill, layer.fill_opacity);
    ctx.beginPath();
    if (layer.shape === "rounded_rect" && layer.radius > 0) ctx.roundRect(x, y, w, h, Math.min(layer.radius, w / 2, h / 2));
    else ctx.rect(x, y, w, h);
    ctx.fill();
  }

  // The frame L6 shows at t (frame floor(t * fps), as the player quantises) for the parity check at approval,
  // shrunk by a whole factor with a plain block average, exactly as the server shrinks its frame (PIL's
  // Image.reduce: pipeline/render/parity.py): no engine's own smoothing is measured. A lossless PNG.
  snapshot(t, width = 270) {
    const zones = this.showZones;
    this.showZones = false;
    const fps = this.plan.fps;
    this.drawAt(Math.min(Math.floor(t * fps + 1e-6), Math.round(this.plan.duration * fps) - 1) / fps);
    this.showZones = zones;
    const factor = Math.max(1, Math.floor(this.canvas.width / width));
    const W = this.canvas.width, H = this.canvas.height;
    const w = Math.ceil(W / factor), h = Math.ceil(H / factor);
    const source = this.ctx.getImageData(0, 0, W, H).data;
    const small = new ImageData(w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0, g = 0, b = 0, n = 0;
        for (let yy = y * factor; yy < Math.min(H, (y + 1) * factor); yy++) {
          for (let xx = x * factor, i = (yy * W + xx) * 4; xx < Math.min(W, (x + 1) * factor); xx++, i += 4) {
            r += source[i]; g += source[i + 1]; b += source[i + 2]; n++;
          }
        }
        const o = (y * w + x) * 4;
        small.data[o] = Math.floor((r + n / 2) / n);
        small.data[o + 1] = Math.floor((g + n / 2) / n);
        small.data[o + 2] = Math.floor((b + n / 2) / n);
        small.data[o + 3] = 255;
      }
    }
    const scaled = document.createElement("canvas");
    scaled.width = w;
    scaled.height = h;
    scaled.getContext("2d").putImageData(small, 0, 0);
    return scaled.toDataURL("image/png");
  }

  release() {
    for (const image of this.images.values()) image.close?.();
    for (const sprite of this.sprites.values()) sprite.close?.();
    this.images.clear();
    this.sprites.clear();
  }
}
