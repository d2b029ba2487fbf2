// The adjust panel and the post copy: every change goes to the server, which applies it to the plan, and is a
// field of the shared draft.
import { describeErrors, postJSON } from "../api.js";
import { fieldValue, setField } from "../desk.js";
import { $, root, studio } from "./page.js";

// The adjust panel: every change goes to the server, which applies it to the plan; `onPlan` shows the result.
// Each change is also a field of the shared draft (`studio.draft.touch`), saved once typing pauses; someone
// else's save sets the controls again (`refresh`) and redraws.
export function adjustPanel(payload, desk, { onPlan, seek }) {
  const { plan, originals } = payload;
  const adjustments = desk.adjustments;
  const touch = (field) => { studio.history?.record(field); studio.draft?.touch(field); };
  const controls = [];
  const meters = new Map();  // text layer id -> show(room)
  let inFlight = null;

  async function send(started) {
    inFlight?.abort();
    inFlight = new AbortController();
    try {
      const { ok, data } = await postJSON(root.dataset.planUrl, { adjustments }, { signal: inFlight.signal });
      if (!ok) {
        $("adjust-errors").textContent = describeErrors(data);
        for (const [id, room] of Object.entries(data.room ?? {})) meters.get(id)?.(room);
        unchecked();  // refused for another field: this wording's fit was not measured
        return;
      }
      $("adjust-errors").textContent = "";
      for (const scene of data.plan.scenes) for (const layer of scene.layers) {
        if (layer.type === "text") meters.get(layer.id)?.(layer.room);
      }
      showPost(data);
      await onPlan(data);
      desk.onAdjusted?.();
      studio.metrics.lastAdjustMs = performance.now() - started;
      studio.adjustCount = (studio.adjustCount || 0) + 1;
    } catch (error) {
      if (error.name !== "AbortError") { $("adjust-errors").textContent = error.message; unchecked(); }
    }
  }
  // A meter still waiting when the answer held no verdict for it says so, rather than "checking…" for ever.
  const unchecked = () => {
    for (const meter of document.querySelectorAll(".fit-meter.pending")) {
      meter.classList.remove("pending", "over");
      meter.textContent = "not checked: see the message above";
    }
  };

  // A carousel or a still has no text timing to set (the template leaves the slider out).
  const timing = $("timing-offset");
  const sliders = () => {
    $("text-scale").value = adjustments.text_scale;
    $("text-scale-value").textContent = `${Number(adjustments.text_scale).toFixed(2)}×`;
    if (!timing) return;
    timing.value = adjustments.timing_offset;
    $("timing-offset-value").textContent = `${Number(adjustments.timing_offset).toFixed(2)} s`;
  };
  controls.push(sliders);
  sliders();
  $("text-scale").addEventListener("input", (e) => {
    adjustments.text_scale = Number(e.target.value);
    sliders();
    touch("text_scale");
    send(performance.now());
  });
  timing?.addEventListener("input", (e) => {
    adjustments.timing_offset = Number(e.target.value);
    sliders();
    touch("timing_offset");
    send(performance.now());
  });

  const editable = [];
  for (const scene of plan.scenes) for (const layer of scene.layers) {
    if (layer.type === "text" && layer.editable) editable.push([scene, layer]);
  }
  $("text-edits").replaceChildren(...editable.map(([scene, layer]) => {
    const row = document.createElement("div");
    row.className = "text-edit";
    const label = document.createElement("label");
    const caption = document.createElement("span");
    caption.textContent = payload.labels?.layers[layer.id] ?? `${scene.id} · ${layer.role}`;
    label.append(caption);
    const original = originals.texts[layer.id] ?? layer.text;
    const input = document.createElement("input");
    input.value = adjustments.text_edits[layer.id] ?? original;
    input.dataset.layer = layer.id;
    // The fit meter shows the server's verdict on this very wording (pipeline/design.py `room`, from the
    // layout that draws it): what the meter calls too long is what the server refuses, and nothing else.
    // While the answer is on its way it says so rather than guess.
    const meter = document.createElement("span");
    meter.className = "fit-meter";
    meter.dataset.layer = layer.id;
    meters.set(layer.id, (room) => {
      meter.classList.remove("pending");
      if (room == null) { meter.textContent = ""; return; }
      meter.textContent = room >= 0 ? `${room} characters left` : `${-room} characters too many`;
      meter.classList.toggle("over", room < 0);
    });
    meters.get(layer.id)(layer.room);
    input.addEventListener("focus", () => seek(scene, layer));
    input.addEventListener("input", () => {
      meter.textContent = "checking…";
      meter.classList.add("pending");
      if (input.value.trim() && input.value !== original) adjustments.text_edits[layer.id] = input.value;
      else delete adjustments.text_edits[layer.id];
      touch(`text_edits.${layer.id}`);
      send(performance.now());
    });
    const colour = document.createElement("select");
    colour.dataset.layer = layer.id;
    colour.append(...plan.palette.map((hex) => new Option(hex, hex, false, hex === layer.color)));
    // The contrast warning: the server measured which brand colours read on what is behind this text.
    const warning = document.createElement("span");
    warning.className = "contrast-warning";
    warning.dataset.layer = layer.id;
    const warn = () => {
      const reads = !layer.readable_colors?.length || layer.readable_colors.includes(colour.value);
      warning.textContent = reads ? "" : {
        refuse: "Does not read on this background: it will be refused.",
        panel: "Low contrast here: a panel will be put behind the text.",
        stroke: "Low contrast here: the text will get an outline.",
      }[plan.legibility || "stroke"];
      warning.hidden = reads;
    };
    warn();
    // Someone else's save, a rollback or an undo sets the fields again, and the warning with them (it stayed
    // up after a rollback had restored a colour that reads).
    controls.push(() => {
      if (document.activeElement !== input) input.value = adjustments.text_edits[layer.id] ?? original;
      colour.value = adjustments.colors[layer.id] ?? originals.colors[layer.id] ?? layer.color;
      warn();
    });
    colour.addEventListener("change", () => {
      warn();
      adjustments.colors[layer.id] = colour.value;
      touch(`colors.${layer.id}`);
      send(performance.now());
    });
    label.append(input, colour);
    row.append(label, meter, warning);
    return row;
  }));

  const showPost = postPanel(payload, adjustments, touch, () => send(performance.now()), controls);
  showPost(payload);

  desk.onRemote = () => { for (const refresh of controls) refresh(); send(performance.now()); };
  studio.suggestions?.refresh();

  // Captions: each group's words can be corrected (a misspelt name); their timing stays the narration's.
  const captions = plan.overlay.find((layer) => layer.type === "captions");
  const box = $("caption-edits");
  if (!captions || !box) return;
  box.hidden = false;
  box.querySelector("summary").textContent = `Captions (${captions.groups.length} lines)`;
  // Captions can be turned off while a scene shows, where they would only repeat its own numbers; the caption
  // files keep the whole speech. A scene is offered where a caption group starts in it.
  const spoken = plan.scenes.map((scene, index) => [scene, index])
    .filter(([scene]) => captions.groups.some((g) => scene.start <= g.start && g.start < scene.end));
  const switches = spoken.map(([scene, index]) => {
    const field = `captions_off.${scene.id}`;
    const input = Object.assign(document.createElement("input"), { type: "checkbox" });
    input.dataset.captionsScene = scene.id;
    const show = () => { input.checked = !fieldValue(adjustments, field); };
    controls.push(show);
    show();
    input.addEventListener("change", () => {
      setField(adjustments, field, input.checked ? undefined : true);
      touch(field);
      seek(scene, { start: scene.start });
      send(performance.now());
    });
    const label = Object.assign(document.createElement("label"), { className: "captions-scene" });
    label.append(input, ` Captions during ${payload.labels?.scenes[scene.id] ?? `scene ${index + 1}`}`);
    return label;
  });
  box.querySelector("div").replaceChildren(...switches, ...captions.groups.map((group, index) => {
    const original = originals.captions[index] ?? group.words.map((word) => word.text).join(" ");
    const input = Object.assign(document.createElement("input"), { value: adjustments.caption_edits[index] ?? original });
    input.dataset.caption = index;
    controls.push(() => { if (document.activeElement !== input) input.value = adjustments.caption_edits[index] ?? original; });
    input.addEventListener("focus", () => seek({ end: group.end }, { start: group.start - 0.6 + 1e-3 }));
    input.addEventListener("input", () => {
      if (input.value.trim() && input.value !== original) adjustments.caption_edits[index] = input.value;
      else delete adjustments.caption_edits[index];
      touch(`caption_edits.${index}`);
      send(performance.now());
    });
    const label = document.createElement("label");
    // "Line 3 · 4.2 s": numbered as the draft's history names it ("Caption line 3 changed to …")
    label.append(Object.assign(document.createElement("span"), { textContent: `Line ${index + 1} · ${group.start.toFixed(1)} s` }), input);
    return label;
  }));
}

// The post copy: its caption, hashtags and each image's alt text are fields of the shared draft like the words
// on screen (an empty field means "as written"). The server cuts the post for each platform (pipeline/post.py)
// and every answer says what each will carry, so the counts shown are the ones L7 delivers.
function postPanel(payload, adjustments, touch, send, controls) {
  const box = $("post-copy");
  const post = payload.originals?.post;
  if (!box || !post) return () => {};
  box.hidden = false;
  const fields = [[$("post-caption"), "post_caption", post.caption], [$("post-hashtags"), "post_hashtags",
    post.hashtags.join(" ")]];
  const slides = payload.plan.scenes.map((scene) => scene.id).filter((id) => id in post.alt_text);
  $("alt-texts").replaceChildren(...slides.map((id, index) => {
    const input = Object.assign(document.createElement("textarea"), { rows: 2, maxLength: 1000 });
    input.dataset.scene = id;
    fields.push([input, `alt_text.${id}`, post.alt_text[id]]);
    const label = document.createElement("label");
    label.append(Object.assign(document.createElement("span"),
      { textContent: slides.length > 1 ? `Alt text, slide ${index + 1}` : "Alt text" }), input);
    return label;
  }));
  for (const [input, field, original] of fields) {
    const show = () => { if (document.activeElement !== input) input.value = fieldValue(adjustments, field) || original; };
    controls.push(show);
    show();
    input.addEventListener("input", () => {
      setField(adjustments, field, input.value.trim() && input.value !== original ? input.value : undefined);
      touch(field);
      send();
    });
  }
  return (data) => {
    $("post-platforms").replaceChildren(...(data.post_texts || []).map((row) => {
      const li = document.createElement("li");
      li.dataset.platform = row.platform;
      li.textContent = `${row.label}: ${row.chars} of ${row.max_chars} characters, ${row.hashtags} of ` +
        `${row.max_hashtags} hashtags${row.shortened ? " (shortened to fit)" : ""}`;
      li.title = row.text;
      return li;
    }));
  };
}
