// Plays a plan on a PreviewCanvas at its fps, kept to the Web Audio clock (the audio is the master). Where the
// audio cannot start (no output device: the context never resumes), the piece plays silent on the page's own
// clock after AUDIO_WAIT_MS, and onSilent says why.
const AUDIO_WAIT_MS = 1500;

export class Player {
  // silent: a carousel's or a still's review, which has no sound (and opens no audio output).
  constructor(view, { onTime = () => {}, onState = () => {}, onSilent = () => {}, silent = false } = {}) {
    this.view = view;
    this.onTime = onTime;
    this.onState = onState;
    this.onSilent = onSilent;
    this.audio = !silent && typeof AudioContext === "function" ? new AudioContext() : null;
    this.master = this.audio ? this.audio.createGain() : null;
    if (this.master) this.master.connect(this.audio.destination);
    this.buffers = new Map();  // file -> AudioBuffer
    this.sources = [];
    this.playing = false;
    this.t = 0;
    this.frame = -1;
    this.raf = 0;
  }

  get plan() { return this.view.plan; }
  get duration() { return this.plan.duration; }

  async loadAudio() {
    if (!this.audio) return;
    await Promise.all(this.plan.audio.map(async (track) => {
      if (this.buffers.has(track.file)) return;
      const response = await fetch(this.view.assetUrl(track.file), { credentials: "same-origin" });
      if (!response.ok) throw new Error(`${track.file}: ${response.status}`);
      this.buffers.set(track.file, await this.audio.decodeAudioData(await response.arrayBuffer()));
    }));
  }

  // The frame shown at time t: the same quantisation L6 uses (frame n at n / fps).
  frameAt(t) { return Math.min(Math.floor(t * this.plan.fps + 1e-6), Math.round(this.duration * this.plan.fps) - 1); }

  show(t, force = false) {
    this.t = Math.max(0, Math.min(t, this.duration));
    const frame = this.frameAt(this.t);
    if (force || frame !== this.frame) {
      this.frame = frame;
      this.view.drawAt(frame / this.plan.fps);
    }
    this.onTime(this.t, frame);
  }

  redraw() { this.show(this.t, true); }

  async play() {
    if (this.playing) return;
    if (this.t >= this.duration - 1 / this.plan.fps) this.t = 0;
    let audible = Boolean(this.audio);
    if (audible) {
      const resumed = await Promise.race([
        this.audio.resume().then(() => this.audio.state === "running", () => false),
        new Promise((ok) => setTimeout(() => ok(false), AUDIO_WAIT_MS)),
      ]);
      if (!resumed) {
        audible = false;
        this.onSilent("The sound could not start (this computer has no audio output?): playing without it.");
      }
    }
    this.clock = audible ? () => this.audio.currentTime : () => performance.now() / 1000;
    if (audible) {
      const now = this.audio.currentTime + 0.05;
      for (const track of this.plan.audio) {
        const buffer = this.buffers.get(track.file);
        if (!buffer) continue;
        const source = this.audio.createBufferSource();
        const gain = this.audio.createGain();
        gain.gain.value = track.gain;
        source.buffer = buffer;
        source.connect(gain).connect(this.master);
        const offset = this.t - track.start;
        if (offset >= 0) source.start(now, offset); else source.start(now - offset, 0);
        this.sources.push(source);
      }
      this.startedAt = now - this.t;
    } else {
      this.startedAt = this.clock() - this.t;
    }
    this.playing = true;
    this.onState(true);
    const tick = () => {
      if (!this.playing) return;
      const t = this.clock() - this.startedAt;
      if (t >= this.duration) { this.pause(); this.show(this.duration - 1e-3); this.onEnded?.(); return; }
      this.show(Math.max(0, t));
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    for (const source of this.sources) { try { source.stop(); } catch { /* already stopped */ } source.disconnect(); }
    this.sources = [];
    this.onState(false);
  }

  seek(t) {
    const wasPlaying = this.playing;
    if (wasPlaying) this.pause();
    this.show(t, true);
    if (wasPlaying) this.play();
  }

  step(frames) { this.seek((this.frame + frames) / this.plan.fps + 1e-4); }

  // Sends the audio to a recorder as well as the speakers.
  tap() {
    if (!this.audio) return null;
    const destination = this.audio.createMediaStreamDestination();
    this.master.connect(destination);
    return destination;
  }

  close() {
    this.pause();
    this.audio?.close();
  }
}
