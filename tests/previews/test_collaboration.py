"""The desk on one job together: the shared draft (last write wins per field, shown to both), rollback,
comments pinned to a moment and a layer, and presence over the job's socket."""
import json
import math
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db.models import F
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jobs import services
from jobs.models import Comment, DraftRevision, Job, JobEvent
from jobs.services.drafts import COALESCE_S
from tests.conftest import desk_member

# The layers are queued when the job's transaction commits: these tests need real commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job(tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "together"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    return job


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(db):
    return client_for(desk_member("alice", "reviewer"))


@pytest.fixture
def bob(db):
    return client_for(desk_member("bob", "reviewer"))


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def save(client, job, changes, seen):
    return post(client, f"/studio/jobs/{job.pk}/draft", {"changes": changes, "seen": seen})


def pause(job):
    """The reviewers stop for longer than a save's coalescing window (as if COALESCE_S had passed)."""
    DraftRevision.objects.filter(job=job).update(created_at=F("created_at") - timedelta(seconds=COALESCE_S))


def events(job, type_):
    return [e.payload for e in JobEvent.objects.filter(job=job, type=type_).order_by("seq")]


def test_two_reviewers_fields_merge_and_the_later_write_wins_shown_to_both(job, alice, bob):
    """given alice and bob both on the job's page at draft 0,
    when alice sets the text size, bob edits the headline, then bob (still at draft 0) sets the text size,
    then the draft holds bob's size and bob's headline, and the save says it replaced alice's size."""
    # when
    first = save(alice, job, {"text_scale": 1.2}, 0)
    second = save(bob, job, {"text_edits.headline": "Bills by a field goal"}, 0)
    third = save(bob, job, {"text_scale": 0.9}, 0)
    # then
    assert first.status_code == second.status_code == third.status_code == 200
    assert second.json()["overwrote"] == []  # a different field: nothing is lost
    assert third.json()["overwrote"] == [{"field": "text_scale", "by": "alice"}]
    draft = DraftRevision.objects.filter(job=job).order_by("-number").first()
    assert draft.number == 3
    assert draft.adjustments["text_scale"] == 0.9
    assert draft.adjustments["text_edits"] == {"headline": "Bills by a field goal"}
    saved = events(job, "draft.saved")
    assert [e["by"] for e in saved] == ["alice", "bob", "bob"]
    assert saved[-1]["overwrote"] == [{"field": "text_scale", "by": "alice"}]  # alice's page is told too
    assert "All text size 120 % → 90 %" in saved[-1]["changes"]
    plan = third.json()["plan"]
    headline = plan["scenes"][0]["layers"][0]
    assert headline["text"] == "Bills by a field goal" and headline["size"] == pytest.approx(48 * 0.9, abs=0.5)


def test_a_page_that_has_the_newest_draft_replaces_nothing(job, alice, bob):
    save(alice, job, {"text_scale": 1.2}, 0)
    answer = save(bob, job, {"text_scale": 1.1}, 1)
    assert answer.json()["overwrote"] == []


def test_the_review_page_loads_the_shared_draft(job, alice, bob):
    """given a draft saved by alice, when bob opens the page, the plan he gets is the draft's, with the
    originals to compare his edits with."""
    save(alice, job, {"text_edits.headline": "Draft words"}, 0)
    payload = bob.get(f"/studio/jobs/{job.pk}/plan").json()
    assert payload["draft"]["number"] == 1 and payload["draft"]["by"] == "alice"
    assert payload["plan"]["scenes"][0]["layers"][0]["text"] == "Draft words"
    assert payload["originals"]["texts"]["headline"] != "Draft words"


def test_refused_wording_saves_nothing(job, alice):
    answer = save(alice, job, {"text_edits.headline": "far too many words " * 20}, 0)
    assert answer.status_code == 400 and answer.json()["errors"]
    assert not DraftRevision.objects.filter(job=job).exists()
    assert events(job, "draft.saved") == []


def test_a_field_that_is_not_one_is_named(job, alice):
    answer = save(alice, job, {"compliance": "gone"}, 0)
    assert answer.status_code == 400
    assert "'compliance' is not something a reviewer can adjust" in json.dumps(answer.json())


def test_a_field_set_back_to_null_is_the_plan_as_built(job, alice):
    save(alice, job, {"text_edits.headline": "New words", "text_scale": 1.3}, 0)
    answer = save(alice, job, {"text_edits.headline": None, "text_scale": None}, 1)
    assert answer.status_code == 200
    assert answer.json()["draft"]["adjustments"]["text_edits"] == {}
    assert answer.json()["draft"]["adjustments"]["text_scale"] == 1.0


def test_the_draft_cannot_change_after_approval(job, alice):
    assert post(alice, f"/studio/jobs/{job.pk}/approve", {"adjustments": {}}).status_code == 200
    answer = save(alice, job, {"text_scale": 1.2}, 0)
    assert answer.status_code == 409 and "not waiting for review" in answer.json()["error"]


def test_approval_refuses_a_draft_someone_else_changed_since_the_page_had_it(job, alice, bob):
    """given bob saved the draft after alice's page last had it, when alice approves, she is told to look
    again and nothing is approved; approving with the newest draft renders exactly that version."""
    save(bob, job, {"text_scale": 1.2}, 0)
    # when
    stale = post(alice, f"/studio/jobs/{job.pk}/approve", {"adjustments": {}, "draft": 0})
    # then
    assert stale.status_code == 409 and stale.json()["draft_moved"] == {"number": 1, "by": "bob"}
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW
    fresh = post(alice, f"/studio/jobs/{job.pk}/approve", {"adjustments": {"text_scale": 1.2}, "draft": 1})
    assert fresh.status_code == 200
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    version = job.plan_versions.get(number=fresh.json()["approved"])
    assert version.adjustments["text_scale"] == 1.2 and job.renders.get().plan_version == version


def test_the_page_approves_at_the_draft_its_own_save_answered(job, alice):
    number = save(alice, job, {"text_scale": 1.2}, 0).json()["draft"]["number"]
    assert post(alice, f"/studio/jobs/{job.pk}/approve", {"draft": number}).status_code == 200


def test_approval_renders_the_servers_draft_not_the_approvers_copy(job, alice, bob):
    """The reproduction (issue 23): A saves a wording (draft 1); B, whose page still had draft 0, saves a text
    size (draft 2); A's event reaches B after B's save answered, so B's page thinks it has the latest; B approves
    posting its own adjustments (the size only). The render must hold A's wording too: it is in the draft."""
    save(alice, job, {"text_edits.headline": "Bills by a field goal"}, 0)
    answer = save(bob, job, {"text_scale": 1.2}, 0).json()
    assert answer["draft"]["number"] == 2
    approved = post(bob, f"/studio/jobs/{job.pk}/approve", {"adjustments": {"text_scale": 1.2}, "draft": 2})
    assert approved.status_code == 200
    job.refresh_from_db()
    version = job.plan_versions.get(number=approved.json()["approved"])
    draft = job.draft_revisions.order_by("-number").first()
    assert version.adjustments == draft.adjustments
    assert version.adjustments["text_edits"] == {"headline": "Bills by a field goal"}
    assert version.adjustments["text_scale"] == 1.2 and job.renders.get().plan_version == version


def test_unsaved_changes_sent_with_approval_are_merged_and_kept_in_the_draft(job, alice, bob):
    save(bob, job, {"text_edits.headline": "Bills by a field goal"}, 0)
    approved = post(alice, f"/studio/jobs/{job.pk}/approve", {"changes": {"text_scale": 1.1}, "draft": 1})
    assert approved.status_code == 200
    job.refresh_from_db()
    version = job.plan_versions.get(number=approved.json()["approved"])
    newest = job.draft_revisions.order_by("-number").first()
    assert newest.number == 2 and newest.adjustments == version.adjustments
    assert version.adjustments["text_scale"] == 1.1 and version.adjustments["text_edits"]["headline"]


DRAFT_FIELDS = {"text_scale": st.sampled_from([0.9, 1.0, 1.1, 1.2, None]),
                "text_edits.headline": st.sampled_from(["Bills by a field goal", "Chiefs cover", "Over it goes", None]),
                "layer_scale.headline": st.sampled_from([0.9, 1.1, None])}
SAVE = st.tuples(st.sampled_from(["alice", "bob", "cleo"]), st.sampled_from(sorted(DRAFT_FIELDS)),
                 st.integers(0, 3), st.booleans()).flatmap(
    lambda t: st.tuples(st.just(t[0]), st.just(t[1]), DRAFT_FIELDS[t[1]], st.just(t[2]), st.just(t[3])))


@given(saves=st.lists(SAVE, min_size=1, max_size=8), approver=st.sampled_from(["alice", "bob", "cleo"]))
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def test_any_interleaving_of_saves_renders_exactly_the_draft_at_approval(saves, approver, tiny_pipeline, preset):
    """given three reviewers saving fields in any order, each from whatever stale draft number their page had,
    sometimes pausing, when one approves at the newest draft, then the approved plan's adjustments are the
    draft's, which is every save merged in the order the server took them (the later write winning field by
    field); a reviewer's saves with no pause and nobody else's between are one draft, the rest one each."""
    from django.contrib.auth import get_user_model

    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "prop"})
    users = {name: get_user_model().objects.get_or_create(username=name, defaults={"is_staff": True})[0]
             for name in ("alice", "bob", "cleo")}
    expected: dict = {}
    bursts, last = [], None
    for name, field, value, behind, paused in saves:
        if paused:
            pause(job)
        number = DraftRevision.objects.filter(job=job).order_by("-number").values_list("number", flat=True).first()
        services.draft_save(job_id=job.pk, user=users[name], changes={field: value},
                            seen=max(0, (number or 0) - behind))
        expected[field] = value
        if paused or name != last:
            bursts.append(name)
        last = name
    revisions = list(DraftRevision.objects.filter(job=job).order_by("number"))
    assert [r.created_by.username for r in revisions] == bursts
    newest = revisions[-1]
    version = services.job_approve(job_id=job.pk, user=users[approver], draft_seen=newest.number)
    assert version.adjustments == newest.adjustments
    from pipeline.contracts import Adjustments

    assert Adjustments.model_validate(version.adjustments) == Adjustments().with_fields(expected)


def test_saves_at_once_from_many_reviewers_are_all_kept(job):
    """given four reviewers saving different fields of one draft at the same moment (threads, real commits)
    then every save is accepted, the revisions are numbered without a gap, and the newest holds every field"""
    import threading

    fields = [("text_scale", 1.1), ("timing_offset", 0.25), ("text_edits.headline", "Chiefs cover"),
              ("layer_scale.headline", 0.9)]
    users = [desk_member(f"r{index}", "reviewer") for index in range(len(fields))]
    errors, barrier = [], threading.Barrier(len(users))

    def saving(index, user):
        from django.db import connection

        try:
            barrier.wait(timeout=10)
            services.draft_save(job_id=job.pk, user=user, changes=dict([fields[index]]), seen=0)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure of a save as its own
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=saving, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = list(DraftRevision.objects.filter(job=job).order_by("number").values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]
    newest = DraftRevision.objects.get(job=job, number=4).adjustments
    assert (newest["text_scale"], newest["timing_offset"], newest["text_edits"], newest["layer_scale"]) == (
        1.1, 0.25, {"headline": "Chiefs cover"}, {"headline": 0.9})


def test_rollback_to_the_plan_as_built_and_to_an_earlier_draft(job, alice, bob):
    """given three saves, when bob rolls back to draft 1 and then to plan version 1, each becomes the draft
    with its changes in words, and the trail says bob did it."""
    save(alice, job, {"text_scale": 1.2}, 0)
    pause(job)
    save(alice, job, {"text_edits.headline": "Second words"}, 1)
    pause(job)
    save(alice, job, {"timing_offset": 0.5}, 2)
    # when
    to_draft = post(bob, f"/studio/jobs/{job.pk}/rollback", {"draft": 1})
    # then
    assert to_draft.status_code == 200
    assert to_draft.json()["draft"]["adjustments"]["text_edits"] == {}
    assert to_draft.json()["draft"]["adjustments"]["text_scale"] == 1.2
    trail = events(job, "draft.saved")[-1]
    assert trail["by"] == "bob" and trail["rollback"] == "draft 1"
    assert "Text timing +0.50 s → +0.00 s" in trail["changes"]
    assert "Text of S1 headline set back to the original" in trail["changes"]
    # when
    to_built = post(bob, f"/studio/jobs/{job.pk}/rollback", {"version": 1})
    # then
    assert to_built.json()["draft"]["adjustments"]["text_scale"] == 1.0
    assert events(job, "draft.saved")[-1]["changes"] == ["All text size 120 % → 100 %"]
    page = bob.get(f"/studio/jobs/{job.pk}/").content.decode()
    assert "rolled back to plan version 1" in page and "rolled back to draft 1" in page


@pytest.mark.parametrize("body, field", [({}, "version"), ({"version": 9}, "version"), ({"draft": 0}, "draft"),
                                         ({"version": 1, "draft": 1}, "version"), ({"draft": "1"}, "draft"),
                                         ({"version": True}, "version")])
def test_a_rollback_to_nothing_is_refused_in_words(job, alice, body, field):
    answer = post(alice, f"/studio/jobs/{job.pk}/rollback", body)
    assert answer.status_code == 400 and field in answer.json()["errors"]


def test_comments_are_pinned_shown_and_resolved_by_anyone(job, alice, bob):
    """given a comment by alice at 1.2 s on the headline, when bob resolves it, everyone gets both events and
    the studio list counts it while it is open."""
    added = post(alice, f"/studio/jobs/{job.pk}/comments", {"at_s": 1.2, "layer": "headline",
                                                             "text": "stat: wrong line"})
    assert added.status_code == 201
    comment = added.json()["comment"]
    assert comment["by"] == "alice" and comment["layer"] == "headline" and comment["at_s"] == 1.2
    listing = bob.get("/studio/").content.decode()
    assert 'data-comments="1"' in listing
    # when
    resolved = post(bob, f"/studio/jobs/{job.pk}/comments/{comment['id']}/resolve", {})
    # then
    assert resolved.status_code == 200 and resolved.json()["comment"]["resolved_by"] == "bob"
    assert [e["text"] for e in events(job, "comment.added")] == ["stat: wrong line"]
    assert events(job, "comment.resolved")[0]["resolved_by"] == "bob"
    assert 'data-comments="0"' in bob.get("/studio/").content.decode()
    again = post(alice, f"/studio/jobs/{job.pk}/comments/{comment['id']}/resolve", {})
    assert again.json()["comment"]["resolved_by"] == "bob" and len(events(job, "comment.resolved")) == 1


@pytest.mark.parametrize("body, field", [
    ({"at_s": 1.0, "text": ""}, "text"), ({"at_s": 1.0, "text": "x" * 1001}, "text"),
    ({"at_s": -1, "text": "x"}, "at_s"), ({"at_s": "soon", "text": "x"}, "at_s"),
    ({"at_s": 99, "text": "x"}, "at_s"), ({"at_s": 1.0, "text": "x", "layer": "nope"}, "layer"),
    ({"at_s": 1.0, "text": "x", "layer": 5}, "layer"), ({"text": "x"}, "at_s")])
def test_a_bad_comment_gets_field_errors(job, alice, body, field):
    answer = post(alice, f"/studio/jobs/{job.pk}/comments", body)
    assert answer.status_code == 400 and field in answer.json()["errors"]
    assert not Comment.objects.exists()


def test_resolving_a_comment_of_another_job_is_refused(job, alice, tiny_pipeline, preset):
    other = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "other"})
    made = post(alice, f"/studio/jobs/{other.pk}/comments", {"at_s": 0.5, "text": "elsewhere"}).json()["comment"]
    answer = post(alice, f"/studio/jobs/{job.pk}/comments/{made['id']}/resolve", {})
    assert answer.status_code == 400


def test_a_viewer_without_review_rights_may_comment_but_not_edit_the_draft(job, db):
    designer = client_for(desk_member("dana", "designer"))
    assert post(designer, f"/studio/jobs/{job.pk}/comments", {"at_s": 0.1, "text": "logo?"}).status_code == 201
    assert save(designer, job, {"text_scale": 1.2}, 0).status_code == 403


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                       | st.text(max_size=30), lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)
FIELD_NAMES = st.sampled_from(["text_scale", "timing_offset", "text_edits.headline", "colors.headline",
                               "layer_scale.headline", "caption_edits.0", "text_edits", "nope", ""]
                              ) | st.text(max_size=20)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(FIELD_NAMES, JSONISH, max_size=4) | JSONISH, seen=JSONISH)
def test_any_draft_save_is_saved_or_refused_in_words(job, alice, changes, seen):
    """Whatever a page sends, the answer is the new draft or field errors: never a 500, never half a save."""
    before = DraftRevision.objects.filter(job=job).count()
    answer = post(alice, f"/studio/jobs/{job.pk}/draft", {"changes": changes, "seen": seen})
    assert answer.status_code in (200, 400), answer.content
    after = DraftRevision.objects.filter(job=job).count()
    assert after == before + (1 if answer.status_code == 200 else 0)
    if answer.status_code == 400:
        assert answer.json()["errors"]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at_s=JSONISH | st.floats(), text=JSONISH, layer=JSONISH)
def test_any_comment_is_pinned_or_refused_in_words(job, alice, at_s, text, layer):
    try:
        body = json.dumps({"at_s": at_s, "text": text, "layer": layer})
    except ValueError:
        return
    answer = alice.post(f"/studio/jobs/{job.pk}/comments", body, content_type="application/json")
    assert answer.status_code in (201, 400), answer.content
    if answer.status_code == 201:
        made = answer.json()["comment"]
        assert math.isfinite(made["at_s"]) and 0 <= made["at_s"] <= 2.0 and made["text"].strip()


# ---------------------------------------------------------------------------------------------- presence

def test_presence_over_the_job_socket_and_the_studio_socket(tiny_pipeline, preset):
    """given alice on the job page and the batch grid's studio socket open, when bob opens the job and leaves
    it, alice and the studio socket see him come and go."""
    from tests.previews.test_socket import communicator

    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "presence"})
    alice_user, bob_user = desk_member("alice", "reviewer"), desk_member("bob", "reviewer")
    alice_socket = communicator(f"/ws/jobs/{job.pk}/", alice_user)
    bob_socket = communicator(f"/ws/jobs/{job.pk}/", bob_user)
    studio = communicator("/ws/studio/", alice_user)

    async def presence(socket):
        while True:
            message = await socket.receive_json_from(timeout=3)
            if message["type"] == "presence":
                return message

    async def run():
        await studio.connect(timeout=3)
        await alice_socket.connect(timeout=3)
        seen = [(await presence(alice_socket))["viewers"]]
        await presence(studio)
        await bob_socket.connect(timeout=3)
        seen.append((await presence(alice_socket))["viewers"])
        from_studio = await presence(studio)
        await bob_socket.disconnect()
        seen.append((await presence(alice_socket))["viewers"])
        await alice_socket.disconnect()
        await studio.disconnect()
        return seen, from_studio

    seen, from_studio = async_to_sync(run)()
    assert seen == [["alice"], ["alice", "bob"], ["alice"]]
    assert from_studio == {"type": "presence", "job": str(job.pk), "viewers": ["alice", "bob"]}
    from jobs.models import Viewer

    assert not Viewer.objects.exists()


def test_the_batch_grid_marks_jobs_someone_has_open(tiny_pipeline, preset, alice):
    """given two batch jobs in review, one open in alice's page and one whose viewer's process died a while
    ago, the grid marks only the first."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from jobs.models import Viewer

    open_job, left_job = (services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": m, "batch": True})
                          for m in ("open", "left"))
    user = get_user_model().objects.get(username="alice")
    Viewer.objects.create(job=open_job, user=user, channel_name="a", seen_at=timezone.now())
    Viewer.objects.create(job=left_job, user=user, channel_name="b", seen_at=timezone.now() - timedelta(minutes=5))
    page = alice.get("/studio/batch/").content.decode()
    tile = lambda job: page.split(f'data-job="{job.pk}"')[1].split("</article>")[0]  # noqa: E731
    assert "reviewing: alice" in tile(open_job) and "reviewing" not in tile(left_job)


def test_a_refused_change_names_its_field_as_the_page_labels_it(job, alice):
    """An empty wording for the headline: the answer keeps the field's id for the page and labels it as the page
    does; no message a person reads carries a layer id."""
    answer = post(alice, f"/studio/jobs/{job.pk}/plan", {"adjustments": {"text_edits": {"headline": " "}}})
    assert answer.status_code == 400
    body = answer.json()
    assert set(body["errors"]) == set(body["labels"])
    assert body["labels"] == {"text_edits": "Words on screen"}
    answer = post(alice, f"/studio/jobs/{job.pk}/draft", {"changes": {"caption_edits.0": "x"}, "seen": 0})
    assert answer.status_code == 400
    assert answer.json()["labels"] == {"caption_edits": "Captions"}


def test_a_reviewers_quick_saves_are_one_draft(job, alice, bob):
    """Typing that pauses now and then made a draft at each pause (11 in 25 s): one reviewer's saves within
    COALESCE_S of each other, with nobody else's between, are one draft naming everything they changed; a save by
    someone else, or a pause, starts the next."""
    first = save(alice, job, {"text_scale": 1.2}, 0).json()["draft"]
    second = save(alice, job, {"text_edits.headline": "Second words"}, first["number"]).json()["draft"]
    assert second["number"] == 2 and sorted(second["fields"]) == ["text_edits.headline", "text_scale"]
    assert list(DraftRevision.objects.filter(job=job).values_list("number", flat=True)) == [2]
    told = events(job, "draft.saved")[-1]
    assert told["replaces"] == 1 and len(told["changes"]) == 2  # both changes, from the plan as built
    # a page that still holds draft 1 is told draft 2 is newer, and its own save merges as ever
    third = save(bob, job, {"timing_offset": 0.5}, 1).json()["draft"]
    assert third["number"] == 3 and events(job, "draft.saved")[-1]["replaces"] is None
    pause(job)
    save(bob, job, {"timing_offset": 0.25}, 3)
    assert list(DraftRevision.objects.filter(job=job).values_list("number", flat=True)) == [2, 3, 4]
    newest = DraftRevision.objects.get(job=job, number=4).adjustments
    assert (newest["text_scale"], newest["timing_offset"], newest["text_edits"]) == (
        1.2, 0.25, {"headline": "Second words"})
