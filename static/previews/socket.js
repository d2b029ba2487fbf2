// A job's status as the pages name it (Job.Status's labels), for what the live socket reports.
export const STATUS_TEXT = { queued: "Queued", running: "Running", awaiting_review: "Awaiting review",
  approved: "Approved", rendering: "Rendering", scheduled: "Scheduled for delivery", done: "Done", failed: "Failed",
  cancelled: "Cancelled", rejected: "Rejected" };

// The job's (or the studio's) live socket: sends the last event it has, receives the rest, reconnects by itself.
export class LiveSocket {
  constructor(path, { since = 0, cursor = "seq", onEvent = () => {}, onState = () => {} } = {}) {
    this.path = path;
    this.since = since;
    this.cursor = cursor;
    this.onEvent = onEvent;
    this.onState = onState;
    this.delay = 500;
    this.closed = false;
    this.open();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}${this.path}`);
    this.ws.onopen = () => { this.delay = 500; this.ws.send(JSON.stringify({ since: this.since })); this.onState(true); };
    this.ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "error") return;
      const position = event[this.cursor];
      if (typeof position === "number") {
        if (position <= this.since) return;
        this.since = position;
      }
      this.onEvent(event);
    };
    this.ws.onclose = (close) => {
      this.onState(false);
      if (this.closed || close.code === 4403 || close.code === 4404) return;
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  close() { this.closed = true; this.ws?.close(); }
}
