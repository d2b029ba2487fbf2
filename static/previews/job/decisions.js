// The decisions: approve (with the odds' and the kick-off's questions), skip review, reject, re-run and retry, and
// "Make this the draft" on an earlier version. They need no preview, so they are bound first, in every mode.
import { describeErrors, postJSON } from "../api.js";
import { $, root, studio } from "./page.js";

export function decisionButtons(desk) {
  const errors = (data) => { $("adjust-errors").textContent = describeErrors(data); };
  const approve = async (confirmOdds = false, confirmKickoff = false) => {
    $("approve").disabled = true;
    // What is approved is the draft everyone sees: this reviewer's last changes are saved into it first.
    // The server renders its own draft, not this page's copy: the page says which draft it shows, and approval
    // is refused ("look again") when someone saved a newer one meanwhile.
    if (studio.draft && !(await studio.draft.flush())) { $("approve").disabled = false; return; }
    const { ok, status, data } = await postJSON(root.dataset.approveUrl,
      { snapshots: desk.snapshots(), confirm_odds: confirmOdds, confirm_kickoff: confirmKickoff,
        draft: studio.draft?.seen });
    if (ok) { studio.approved = data.approved; return; }
    $("approve").disabled = false;
    // Someone saved a newer draft: the page takes it in (whether or not its event arrived) for another look.
    if (status === 409 && data.draft_moved) await studio.draft?.refresh(root.dataset.planUrl);
    // The game has kicked off, or will have when the post goes out: approved only when the reviewer means it.
    if (status === 409 && data.kickoff) {
      $("kickoff-confirm").querySelector("p").textContent = data.kickoff;
      $("kickoff-confirm").hidden = false;
      return;
    }
    if (status === 409 && data.odds_changed) {
      const box = $("odds-changes");
      box.querySelector("ul").replaceChildren(...data.odds_changed.map((c) => {
        const li = document.createElement("li");
        li.textContent = `${c.field}: ${c.old} → ${c.new ?? "gone"}`;
        return li;
      }));
      box.hidden = false;
      return;
    }
    errors(data);
  };
  $("approve").addEventListener("click", () => approve(false));
  $("confirm-odds").addEventListener("click", () => approve(true));
  $("confirm-kickoff").addEventListener("click", () => { $("kickoff-confirm").hidden = true; approve(false, true); });
  $("rerun").addEventListener("click", async () => {
    const { ok, data } = await postJSON(root.dataset.rerunUrl);
    if (!ok) errors(data);
  });
  $("skip-preview")?.addEventListener("click", async (e) => {
    e.target.disabled = true;
    const { ok, data } = await postJSON(root.dataset.skipUrl);
    if (ok) { studio.skipped = true; return; }
    errors(data);
    e.target.disabled = false;
  });
  $("reject-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { ok, data } = await postJSON(root.dataset.rejectUrl, { reason: e.target.reason.value });
    if (ok) { studio.rejected = true; return; }
    errors(data);
  });
}

export function retryButton() {
  $("retry-button")?.addEventListener("click", async (e) => {
    e.target.disabled = true;
    const { ok, data } = await postJSON(root.dataset.retryUrl);
    if (!ok) { alert(describeErrors(data)); e.target.disabled = false; }
  });
}

// "Make this the draft": an earlier plan version's or draft's adjustments become everyone's draft again.
export function rollbackButtons() {
  root.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-rollback-version], [data-rollback-draft]");
    if (!button) return;
    const body = button.dataset.rollbackVersion ? { version: Number(button.dataset.rollbackVersion) }
      : { draft: Number(button.dataset.rollbackDraft) };
    button.disabled = true;
    const { ok, data } = await postJSON(root.dataset.rollbackUrl, body);
    button.disabled = false;
    if (!ok) $("adjust-errors").textContent = describeErrors(data);
  });
}
