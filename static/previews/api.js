// JSON requests to the studio, with Django's CSRF token.
function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function postJSON(url, body, { signal } = {}) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin", signal,
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await response.json(); } catch { data = { error: `the server answered ${response.status}` }; }
  return { ok: response.ok, status: response.status, data };
}

export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  return { ok: response.ok, status: response.status, data: await response.json() };
}

export function describeErrors(data) {
  if (data.errors) return Object.entries(data.errors).map(([field, messages]) => `${field}: ${messages.join(", ")}`).join("; ");
  return data.error || "something went wrong";
}
