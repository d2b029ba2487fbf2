// The studio's JSON requests (static/previews/api.js): a request that never reaches the server answers like a
// refusal, with its reason, instead of leaving an unhandled rejection (Firefox logged one when a job page was
// left while it loaded); one its caller aborted still throws AbortError.
import assert from "node:assert/strict";
import { test } from "node:test";

import { getJSON, postJSON } from "../../static/previews/api.js";

globalThis.document = { cookie: "csrftoken=abc" };

test("a request that cannot reach the server answers ok: false with the reason", async () => {
  globalThis.fetch = async () => { throw new TypeError("NetworkError when attempting to fetch resource."); };
  const answer = await getJSON("/studio/jobs/x/plan");
  assert.equal(answer.ok, false);
  assert.equal(answer.status, 0);
  assert.match(answer.data.error, /could not be reached.*NetworkError/);
  assert.equal((await postJSON("/studio/jobs/x/draft", {})).ok, false);
});

test("an aborted request still throws AbortError, and an answer that is not JSON is named by its status", async () => {
  globalThis.fetch = async () => { throw new DOMException("The operation was aborted.", "AbortError"); };
  await assert.rejects(postJSON("/studio/jobs/x/plan", {}), { name: "AbortError" });
  globalThis.fetch = async (url, init) => {
    assert.equal(init.headers["X-CSRFToken"], "abc");
    return { ok: false, status: 502, json: async () => { throw new SyntaxError("not JSON"); } };
  };
  const answer = await postJSON("/studio/jobs/x/plan", {});
  assert.deepEqual(answer, { ok: false, status: 502, data: { error: "the server answered 502" } });
});
