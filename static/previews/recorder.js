// Records the preview canvas and its audio with MediaRecorder and offers the file for download.
const TYPES = ["video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm", "video/mp4"];

export function recordingType() {
  if (typeof MediaRecorder !== "function") return null;
  return TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || null;
}

export class Recorder {
  constructor(canvas, player) {
    this.canvas = canvas;
    this.player = player;
    this.url = null;
  }

  // Plays the piece from the start and resolves with a Blob of the recording.
  record() {
    const type = recordingType();
    if (!type) return Promise.reject(new Error("this browser cannot record"));
    this.revoke();
    const stream = this.canvas.captureStream(this.player.plan.fps);
    const audio = this.player.tap();
    if (audio) for (const track of audio.stream.getAudioTracks()) stream.addTrack(track);
    const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 8_000_000 });
    const chunks = [];
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    return new Promise((resolve, reject) => {
      recorder.onerror = (event) => reject(event.error || new Error("recording failed"));
      recorder.onstop = () => {
        for (const track of stream.getTracks()) track.stop();
        audio?.disconnect();
        resolve(new Blob(chunks, { type: type.split(";")[0] }));
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
