// Records the preview canvas and its audio with MediaRecorder.
//
// WebM (VP9/VP8 with Opus) where the browser records it; on iOS Safari, MP4/H.264, at a lower bitrate
// (its encoder is slower and its memory smaller), and without audio when it cannot record AAC with it.
const WEBM_TYPES = ["video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm"];
const MP4_WITH_AUDIO = "video/mp4;codecs=avc1,mp4a.40.2";
const MP4_TYPES = [MP4_WITH_AUDIO, "video/mp4;codecs=avc1", "video/mp4"];
const BITRATE = { desktop: 8_000_000, ios: 2_500_000 };

export function isIOS() {
  // iPadOS presents itself as a Mac; its touch points give it away.
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

// How this browser records: {type, audio, bitrate}, or null when it cannot.
export function recordingPlan() {
  if (typeof MediaRecorder !== "function") return null;
  const ios = isIOS();
  const order = ios ? MP4_TYPES : [...WEBM_TYPES, ...MP4_TYPES];
  const type = order.find((t) => MediaRecorder.isTypeSupported(t));
  if (!type) return null;
  const audio = type.startsWith("video/webm") || type === MP4_WITH_AUDIO
    || (type.startsWith("video/mp4") && MediaRecorder.isTypeSupported(MP4_WITH_AUDIO));
  return { type, audio, bitrate: ios ? BITRATE.ios : BITRATE.desktop, ios };
}

export class Recorder {
  constructor(canvas, player) {
    this.canvas = canvas;
    this.player = player;
    this.url = null;
    this.plan = recordingPlan();
  }

  // Plays the piece from the start and resolves with a Blob of the recording.
  record() {
    const plan = this.plan;
    if (!plan) return Promise.reject(new Error("this browser cannot record"));
    this.revoke();
    const stream = this.canvas.captureStream(this.player.plan.fps);
    const audio = plan.audio ? this.player.tap() : null;
    if (audio) for (const track of audio.stream.getAudioTracks()) stream.addTrack(track);
    const recorder = new MediaRecorder(stream, { mimeType: plan.type, videoBitsPerSecond: plan.bitrate });
    const chunks = [];
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    return new Promise((resolve, reject) => {
      recorder.onerror = (event) => reject(event.error || new Error("recording failed"));
      recorder.onstop = () => {
        for (const track of stream.getTracks()) track.stop();
        audio?.disconnect();
        const blob = new Blob(chunks, { type: plan.type.split(";")[0] });
        // Some engines (WebKit without its GStreamer encoders) stop cleanly having recorded nothing.
        if (!blob.size) reject(new Error("the browser recorded nothing (its video encoder is missing); "
          + "use another browser, or approve and download the rendered file"));
        else resolve(blob);
      };
      this.player.seek(0);
      this.player.onEnded = () => { this.player.onEnded = null; recorder.stop(); };
      recorder.start(250);
      this.player.play();
    });
  }

  link(blob) {
    this.revoke();
    this.url = URL.createObjectURL(blob);
    return this.url;
  }

  revoke() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }
}
