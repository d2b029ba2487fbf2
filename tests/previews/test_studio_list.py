"""The studio's job list as a desk uses it (issue 28): each job titled by its game with a picture, found by team,
player, preset, status and game day, a request's variants together, and failed or rejected jobs put away."""
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def start(preset, matchup, **kwargs):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": matchup}, **kwargs)
    job.refresh_from_db()
    return job


def rows(client, **params):
    """The list's rows as (title, job id) in order."""
    answer = client.get("/studio/", params)
    assert answer.status_code == 200
    return [(job.title, str(job.pk)) for job in answer.context["jobs"]], answer.content.decode()


def test_jobs_are_titled_by_their_game_with_a_picture_and_found_by_team_player_and_filters(staff_client, preset):
    bills = start(preset, "nfl-20261122-buf-kc")
    eagles = start(preset, "nfl-20261122-dal-phi")
    assert bills.status == Job.Status.AWAITING_REVIEW, bills.error_message
    assert bills.title == "Buffalo Bills @ Kansas City Chiefs" and str(bills.game_day) == "2026-11-22"
    listed, page = rows(staff_client)
    assert [title for title, _ in listed] == ["Dallas Cowboys @ Philadelphia Eagles",
                                              "Buffalo Bills @ Kansas City Chiefs"]
    assert f'href="/studio/jobs/{bills.pk}/">Buffalo Bills @ Kansas City Chiefs</a>' in page
    assert bills.thumbnail and f'src="/studio/jobs/{bills.pk}/files/{bills.thumbnail}"' in page
    assert staff_client.get(f"/studio/jobs/{bills.pk}/files/{bills.thumbnail}").status_code == 200
    assert "Sun 22 Nov" in page
    # by team (name or abbreviation), by a player the piece names, several words narrowing
    assert [t for t, _ in rows(staff_client, q="chiefs")[0]] == ["Buffalo Bills @ Kansas City Chiefs"]
    assert [t for t, _ in rows(staff_client, q="PHI")[0]] == ["Dallas Cowboys @ Philadelphia Eagles"]
    named = next(word for word in bills.keywords.split(" · ")[4:])  # the first player the Bills piece names
    assert str(bills.pk) in [pk for _, pk in rows(staff_client, q=named)[0]]
    assert rows(staff_client, q="Bills Eagles")[0] == []
    # by status, preset and game day
    services.job_reject(job_id=eagles.pk, user=None, reason="wrong angle")
    assert [pk for _, pk in rows(staff_client, status="rejected")[0]] == [str(eagles.pk)]
    assert len(rows(staff_client, preset=preset.slug)[0]) == 2
    assert rows(staff_client, day="2026-11-23")[0] == []
    empty, page = rows(staff_client, q="nobody plays here")
    assert empty == [] and "No job matches these filters" in page and "Show all" in page


def test_variants_sit_together_and_say_which_they_are(staff_client, preset):
    first = start(preset, "nfl-20261122-buf-kc", variants=2)
    other = start(preset, "nfl-20261122-dal-phi")
    listed, page = rows(staff_client)
    group = list(Job.objects.filter(variant_group=first.variant_group).order_by("created_at"))
    assert [pk for _, pk in listed] == [str(other.pk), *(str(job.pk) for job in group)]
    assert "variant 1 of 2" in page and "variant 2 of 2" in page


def test_a_failed_or_rejected_job_is_archived_out_of_the_list_and_back(staff_client, preset):
    rejected = start(preset, "nfl-20261122-buf-kc")
    waiting = start(preset, "nfl-20261122-dal-phi")
    services.job_reject(job_id=rejected.pk, user=None, reason="wrong angle")
    listed, page = rows(staff_client)
    assert page.count(">Archive</button>") == 1  # only the rejected one can be put away
    answer = staff_client.post(f"/studio/jobs/{rejected.pk}/archive", {"archived": "1", "next": "/studio/?q=bills"})
    assert answer.status_code == 302 and answer["Location"] == "/studio/?q=bills"
    assert [pk for _, pk in rows(staff_client)[0]] == [str(waiting.pk)]
    shown, page = rows(staff_client, archived="on")
    assert str(rejected.pk) in [pk for _, pk in shown] and ">Restore</button>" in page
    staff_client.post(f"/studio/jobs/{rejected.pk}/archive", {"archived": "0"})
    assert len(rows(staff_client)[0]) == 2
    # a job still in review is refused in words, and nothing changes
    answer = staff_client.post(f"/studio/jobs/{waiting.pk}/archive", {"archived": "1"}, follow=True)
    assert "only a failed, rejected or cancelled job can be archived; this one is awaiting review" in (
        answer.content.decode())
    assert Job.objects.get(pk=waiting.pk).archived_at is None
    # an address elsewhere is not followed back
    answer = staff_client.post(f"/studio/jobs/{rejected.pk}/archive", {"archived": "1", "next": "https://evil.test/"})
    assert answer["Location"] == "/studio/"


@given(params=st.dictionaries(st.sampled_from(["q", "preset", "status", "day", "archived", "other"]),
                              st.text(max_size=30) | st.sampled_from(["2026-11-22", "not-a-day", "rejected", "on"]),
                              max_size=5))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_filters_typed_give_the_list_or_field_errors(staff_client, params):
    answer = staff_client.get("/studio/", params)
    assert answer.status_code == 200
    find = answer.context["find"]
    for field in find.errors:
        assert field in ("q", "preset", "status", "day")


def test_the_empty_batch_grid_speaks_to_the_desk_not_to_a_developer(staff_client):
    page = staff_client.get("/studio/batch/").content.decode()
    assert "No batch jobs are waiting for review" in page and "the studio's start form" in page
    assert "manage.py" not in page


def test_a_player_is_found_by_name_or_surname_as_a_word_not_by_a_suffix():
    from jobs.services.describing import _named_in

    assert _named_in("Patrick Mahomes", "mahomes over 2.5 touchdowns")
    assert _named_in("Marvin Harrison Jr.", "harrison, over 64.5 receiving yards")
    assert not _named_in("Marvin Harrison Jr.", "odell beckham jr. is out")
    assert not _named_in("A.J. Brown", "the browns cover")  # "Brown" as a word only


@given(player=st.text(max_size=40), said=st.text(max_size=200))
def test_any_names_an_upstream_sends_are_looked_for_without_error(player, said):
    from jobs.services.describing import _named_in

    assert _named_in(player, said.casefold()) in (True, False)
