"""Every page opens for every role: each admin changelist, add and change page and each studio page, with data
present, answers something other than a server error (the admin's job list was a 500 for everyone)."""
import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from jobs import services
from jobs.models import Job
from presets.models import Destination
from tests.conftest import desk_member

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ["reviewer", "designer", "desk admin", "no group", "superuser"]


@pytest.fixture
def data(tiny_pipeline, preset, staff_user):
    """A job in review with a plan, events, a comment; a variant group; a done job with a render; destinations."""
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    services.comment_add(job_id=job.pk, user=staff_user, at_s=1.0, text="look here", layer_id="")
    done = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "h"})
    services.job_approve(job_id=done.pk, user=staff_user)
    variants = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "v"}, variants=2)
    Destination.objects.create(name="folder", kind="folder")
    return {"job": Job.objects.get(pk=job.pk), "done": Job.objects.get(pk=done.pk), "group": variants.variant_group}


def user_for(role: str):
    if role == "superuser":
        return get_user_model().objects.create_superuser("root", password="pw-root")
    if role == "no group":
        return get_user_model().objects.create_user("newcomer", password="pw", is_staff=True)
    return desk_member(f"as-{role.replace(' ', '-')}", role)


def admin_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        pages += [reverse(f"admin:{info[0]}_{info[1]}_changelist"), reverse(f"admin:{info[0]}_{info[1]}_add")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{info[0]}_{info[1]}_change", args=[first.pk]))
    return pages


def studio_pages(data, preset) -> list[str]:
    job, done = data["job"], data["done"]
    return ["/studio/", f"/studio/jobs/{job.pk}/", f"/studio/jobs/{done.pk}/", "/studio/batch/",
            f"/studio/variants/{data['group']}/", "/studio/calendar/", "/studio/metrics/", "/studio/presets/",
            f"/studio/presets/{preset.slug}/", f"/studio/jobs/{job.pk}/plan", f"/studio/jobs/{job.pk}/comments",
            f"/studio/jobs/{job.pk}/frames?first=1", f"/studio/matchups?preset={preset.slug}&sport=nfl",
            "/metrics"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_opens_for_every_role(role, data, preset):
    client = Client()
    client.force_login(user_for(role))
    failures = {}
    for url in admin_pages() + studio_pages(data, preset):
        status = client.get(url).status_code
        if status >= 500:
            failures[url] = status
    assert failures == {}
