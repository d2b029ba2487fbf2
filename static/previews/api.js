// JSON requests to the studio, with Django's CSRF token. A request that never reaches the server (the network
// dropped, or the page is being left) answers {ok: false, status: 0} with the reason, like a refusal, so no
// caller leaves an unhandled rejection behind; a request its caller aborted still throws AbortError.
function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request(url, init) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...init });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return { ok: false, status: 0, data: { error: `the server could not be reached (${error.message})` } };
  }
  let data = {};
  try { data = await response.json(); } catch { data = { error: `the server answered ${response.status}` }; }
  return { ok: response.ok, status: response.status, data };
}

// keepalive: sent although the page is being left (the batch grid's pending action).
export function postJSON(url, body, { signal, keepalive = false } = {}) {
  return request(url, {
    method: "POST", signal, keepalive,
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  });
}

export function getJSON(url) {
  return request(url, {});
}

// A refusal in words: each field named as the page labels it (the server sends `labels` for a job's fields), or
// the message alone where it speaks for itself.
export function describeErrors(data) {
  if (data.errors) {
    return Object.entries(data.errors).map(([field, messages]) => {
      const name = data.labels?.[field] ?? (field === "__all__" ? "" : field);
      return name ? `${name}: ${messages.join(", ")}` : messages.join(", ");
    }).join("; ");
  }
  return data.error || "something went wrong";
}
