// What every part of the job page shares: its root element, a lookup by id, and `window.studio`, the page's
// state the parts leave for one another (and the browser tests read).
export const root = document.getElementById("job");
export const $ = (id) => document.getElementById(id);
export const studio = (window.studio = { metrics: {}, ready: false });
