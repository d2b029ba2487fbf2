"""Who may point the server where (issue 22): each finding of the attack with a designer's account, as a test.

Everything a test listens on is the test's own, on 127.0.0.1.
"""
import io
import json
import socket
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from jobs import services
from jobs.models import Job
from pipeline.contracts import PresetConfig
from pipeline.contracts.preset import Providers
from pipeline.errors import ConfigurationError
from presets.models import Destination, Preset
from tests.conftest import desk_member
from tests.fakes import upstream as fake

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def builder_post(client, preset: Preset, config: dict):
    return client.post(f"/studio/presets/{preset.slug}/", {
        "slug": preset.slug, "name": preset.name, "kind": preset.kind, "active": "on",
        "config": json.dumps(config)})


# ------------------------------------------------------------------------------------- provider endpoints and keys


def test_a_designer_cannot_point_a_provider_and_its_key_at_their_own_listener(upstream, settings):
    """given: a designer, a listener of theirs, and the server's GoatedBets key in the environment
    when: they save a preset whose GoatedBets options name the listener as base_url (or unbounded retries)
    then: the save is refused naming the option, and the listener never hears of the key"""
    settings.PROVIDER_SECRETS = {**settings.PROVIDER_SECRETS,
                                 "goatedbets": {"api_key": "the-servers-key", "base_url": "http://127.0.0.1:9"}}
    upstream.route("GET", "/", lambda seen: fake.ok({"stolen": True}))
    preset = Preset.objects.create(slug="reel", name="Reel", kind="reel", config={
        "format": {"kind": "reel", "width": 1080, "height": 1920}})
    designer = client_for(desk_member("dana", "designer"))
    config = {**preset.config, "providers": {"data": {"name": "goatedbets", "options": {
        "base_url": f"{upstream.url}/x?y=", "retries": 1e9, "read_timeout": 1e9}}}}
    response = builder_post(designer, preset, config)
    assert response.status_code == 400
    page = response.content.decode()
    assert "options.base_url" in page and "options.retries" in page and "options.read_timeout" in page
    preset.refresh_from_db()
    assert "options" not in preset.config.get("providers", {}).get("data", {})
    assert upstream.seen == []


def test_the_client_goes_only_where_the_environment_says(upstream, tmp_path):
    """given: options that (from an old row, say) still carry a base_url
    then: the provider's client uses the operator's address, never the option's"""
    from pipeline.context import LayerContext
    from pipeline.http import provider_client

    ctx = LayerContext(job_id="t", layer="L1", work_dir=tmp_path,
                       secrets={"goatedbets": {"api_key": "k", "base_url": "https://operator.example"}})
    client = provider_client("goatedbets", layer="L1", ctx=ctx, options={"base_url": upstream.url}, headers={})
    assert client.base_url == "https://operator.example"


@pytest.mark.parametrize("layer,choice,field", [
    ("data", {"name": "balldontlie", "options": {"vendor": "x", "base_url": "file:///etc/passwd"}}, "options.base_url"),
    ("data", {"name": "goatedbets", "options": {"retries": 11}}, "options.retries"),
    ("ideas", {"name": "llm", "options": {"api": "openai", "read_timeout": 301}}, "options.read_timeout"),
    ("ideas", {"name": "llm", "options": {"api": "http://169.254.169.254/"}}, "options.api"),
    ("audio", {"name": "espeak", "options": {"anything": 1}}, "options.anything"),
    ("media", {"name": "comfyui", "options": {"deadline_s": 1e9}}, "options.deadline_s"),
    ("media", {"name": "nowhere"}, "unknown provider"),
])
def test_each_providers_options_are_bounded_and_unknown_ones_refused(layer, choice, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        Providers.model_validate({layer: choice})


OPTION_NAMES = st.sampled_from(["retries", "read_timeout", "backoff_factor", "backoff_max", "model", "tone", "api",
                                "base_url", "url", "host", "predictor", "style", "deadline_s", "voice"])
OPTION_VALUES = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False), st.text(max_size=40),
                          st.booleans(), st.none())


@given(layer=st.sampled_from(["data", "ideas", "audio", "media"]),
       name=st.sampled_from(["fixture", "goatedbets", "balldontlie", "template", "llm", "espeak", "openai_tts",
                             "elevenlabs", "procedural", "openai_images", "flux", "gemini_images", "comfyui"]),
       options=st.dictionaries(OPTION_NAMES, OPTION_VALUES, max_size=5))
@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_options_are_kept_within_bounds_or_refused_naming_them(layer, name, options):
    """Whatever a preset editor types as options: either they are refused naming an option, or what is kept has
    no address in it and every figure within its bounds."""
    from pydantic import ValidationError

    from pipeline.contracts.providers import PROVIDER_OPTIONS

    try:
        kept = Providers.model_validate({layer: {"name": name, "options": options}})
    except ValidationError as exc:
        message = str(exc)
        assert "unknown provider" in message or "options." in message
        return
    assert name in PROVIDER_OPTIONS[layer]
    checked = getattr(kept, layer).options
    assert not {"base_url", "url", "host"} & set(checked)
    assert 0 <= checked.get("retries", 0) <= 10 and checked.get("read_timeout", 1) <= 300


# ------------------------------------------------------------------------------------------------ destinations


@pytest.mark.parametrize("url,reason", [
    ("http://hooks.example.com/x", "plain http"),
    ("https://127.0.0.1:8000/x", "loopback"),
    ("https://localhost/x", "loopback"),
    ("https://10.1.2.3/x", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[::1]/x", "loopback"),
    ("https://[::ffff:192.168.0.1]/x", "private"),
    ("https://user:pw@hooks.example.com/x", "user name"),
    ("ftp://hooks.example.com/x", "https://"),
])
def test_a_webhook_destination_must_be_https_on_a_public_address(url, reason):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=reason):
        Destination(name="hook", kind="webhook", url=url).full_clean()


def test_an_operator_allowed_host_may_be_reached_over_http(settings):
    from django.core.exceptions import ValidationError

    settings.PIPELINE = {**settings.PIPELINE, "DELIVERY_ALLOWED_HOSTS": []}
    with pytest.raises(ValidationError, match="plain http"):
        Destination(name="office", kind="webhook", url="http://127.0.0.1:8123/hook").full_clean()
    settings.PIPELINE = {**settings.PIPELINE, "DELIVERY_ALLOWED_HOSTS": ["127.0.0.1"]}
    Destination(name="office", kind="webhook", url="http://127.0.0.1:8123/hook").full_clean()


@pytest.mark.parametrize("folder", ["../evil", "outside/../../evil", "/etc", "a\\..\\b", "reels/../../x"])
def test_a_folder_destination_stays_inside_the_export_folder(folder):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="folder"):
        Destination(name="out", kind="folder", folder=folder).full_clean()


def test_a_folder_destination_cannot_leave_through_a_link(settings, tmp_path):
    from django.core.exceptions import ValidationError

    export = settings.PIPELINE["EXPORT_DIR"]
    export.mkdir(parents=True, exist_ok=True)
    (tmp_path / "outside").mkdir()
    (export / "door").symlink_to(tmp_path / "outside")
    with pytest.raises(ValidationError, match="leads out"):
        Destination(name="door", kind="folder", folder="door").full_clean()


@pytest.fixture
def delivering(settings, preset):
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.with_delivery"}
    return preset


def deliver(preset, user, destination_name: str) -> Job:
    preset.config = {**preset.config, "providers": {"distribution": {"name": destination_name}}}
    preset.save()
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    services.delivery_start(job_id=job.pk, user=user)
    services.job_approve(job_id=job.pk, user=user)
    job.refresh_from_db()
    return job


def test_delivery_checks_the_address_again_and_sends_nothing_inside(delivering, staff_user, upstream, settings):
    """given: a webhook destination on 127.0.0.1 saved when the operator allowed it (or by an old migration),
    and the operator no longer allowing it
    then: L7 fails naming the destination and the rule, and the listener receives nothing"""
    upstream.route("POST", "/hook", lambda seen: fake.ok({"received": True}))
    Destination.objects.create(name="inside", kind="webhook", url=f"{upstream.url}/hook")  # no clean(): old row
    settings.PIPELINE = {**settings.PIPELINE, "DELIVERY_ALLOWED_HOSTS": []}
    job = deliver(delivering, staff_user, "inside")
    assert job.status == Job.Status.FAILED and job.failed_layer == "L7"
    assert "inside" in job.error_message and "http" in job.error_message
    assert upstream.requests_to("/hook") == []


def test_a_name_that_resolves_inside_is_refused_on_the_connection(upstream):
    """given: an address that passed the check when it was typed (the check of names is skipped here, as when
    DNS answered a public address then and a private one now)
    then: the connection itself is refused before a byte of the delivery is sent"""
    from pipeline.http import RetryPolicy, make_session
    from pipeline.net import AddressRefused

    upstream.route("POST", "/hook", lambda seen: fake.ok({"received": True}))
    session = make_session(RetryPolicy(total=0), deliver_only_to=[])
    with pytest.raises(AddressRefused, match="loopback"):
        session.post(f"{upstream.url}/hook", data=b"{}", timeout=5)
    assert upstream.requests_to("/hook") == []


def test_a_redirect_from_the_receiver_is_not_followed(delivering, staff_user, upstream, destination):
    inner = fake.start()
    try:
        inner.route("POST", "/", lambda seen: fake.ok({"got": True}))
        upstream.route("POST", "/hook", lambda seen: fake.ok(b"", status=307, headers={"Location": inner.url + "/"}))
        destination("moved", kind="webhook", url=f"{upstream.url}/hook")
        job = deliver(delivering, staff_user, "moved")
        assert job.status == Job.Status.FAILED and "redirect" in job.error_message
        assert inner.seen == []
    finally:
        fake.stop(inner)


def test_a_folder_destination_that_leads_out_writes_nothing_there(delivering, staff_user, settings, tmp_path):
    Destination.objects.create(name="evil", kind="folder", folder="../outside")  # no clean(): an old row
    job = deliver(delivering, staff_user, "evil")
    assert job.status == Job.Status.FAILED and job.failed_layer == "L7" and "evil" in job.error_message
    assert not (settings.PIPELINE["EXPORT_DIR"].parent / "outside").exists()


def test_a_preset_names_a_destination_that_exists(preset):
    designer = client_for(desk_member("dana", "designer"))
    config = {**preset.config, "providers": {"distribution": {"name": "nowhere"}}}
    response = builder_post(designer, preset, config)
    assert response.status_code == 400 and "no destination is called" in response.content.decode()
    response = builder_post(designer, preset, {**preset.config, "providers": {"distribution": {
        "name": "webhook", "options": {"url": "http://127.0.0.1/"}}}})
    assert response.status_code == 400 and "options" in response.content.decode()


def test_old_presets_migrate_to_named_destinations(settings):
    """given: presets from before 0003 with a folder path inside EXPORT_DIR, one outside it, a webhook URL and a
    base_url option
    then: each names a destination made for it; the outside folder becomes EXPORT_DIR itself; base_url is gone"""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    export = settings.PIPELINE["EXPORT_DIR"]
    executor = MigrationExecutor(connection)
    executor.migrate([("presets", "0002_desk_permissions")])
    old = executor.loader.project_state([("presets", "0002_desk_permissions")]).apps.get_model("presets", "Preset")
    base = {"format": {"kind": "reel", "width": 1080, "height": 1920}}
    configs = {
        "inside": {**base, "providers": {"distribution": {"name": "folder", "options": {"path": str(export / "a")}}}},
        "outside": {**base, "providers": {"distribution": {"name": "folder", "options": {"path": "/tmp/x"}}}},
        "hook": {**base, "providers": {"distribution": {"name": "webhook", "options": {"url": "https://h.example/x"}},
                                       "data": {"name": "goatedbets", "options": {"base_url": "http://evil"}}}},
    }
    for slug, config in configs.items():
        old.objects.create(slug=slug, name=slug, kind="reel", config=config)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    by_slug = {p.slug: p.config for p in Preset.objects.all()}
    inside, outside, hook = (Destination.objects.get(name=by_slug[s]["providers"]["distribution"]["name"])
                             for s in ("inside", "outside", "hook"))
    assert (inside.kind, inside.folder) == ("folder", "a") and (outside.kind, outside.folder) == ("folder", "")
    assert (hook.kind, hook.url) == ("webhook", "https://h.example/x")
    assert "options" not in by_slug["hook"]["providers"]["data"] or by_slug["hook"]["providers"]["data"][
        "options"] == {}
    for config in by_slug.values():
        PresetConfig.model_validate(config)


# ---------------------------------------------------------------------------------------- publishing without review


def test_only_who_may_publish_unreviewed_is_offered_render_without_review(preset):
    reviewer = client_for(desk_member("rita", "reviewer"))
    admin = client_for(desk_member("ada", "desk admin"))
    assert 'name="auto_approve"' not in reviewer.get("/studio/").content.decode()
    assert 'name="auto_approve"' in admin.get("/studio/").content.decode()


def test_a_reviewer_or_designer_cannot_start_a_job_that_renders_unreviewed(tiny_pipeline, preset):
    for user in (desk_member("rita", "reviewer"), desk_member("dana", "designer")):
        with pytest.raises(services.InvalidInput) as refused:
            services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g", "auto_approve": True},
                                created_by=user)
        assert "auto_approve" in refused.value.errors
    assert not Job.objects.exists()


def test_render_without_review_names_who_allowed_it(tiny_pipeline, preset):
    admin = desk_member("ada", "desk admin")
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g", "auto_approve": True},
                              created_by=admin)
    approved = job.plan_versions.get(approved_at__isnull=False)
    assert approved.approved_by == admin and "ada" in approved.note


def test_turning_review_off_is_for_a_desk_admin_and_is_recorded(tiny_pipeline, preset):
    off = {**preset.config, "preview": {"enabled": False}}
    response = builder_post(client_for(desk_member("dana", "designer")), preset, off)
    assert response.status_code == 400 and "preview.enabled" in response.content.decode()
    preset.refresh_from_db()
    assert PresetConfig.model_validate(preset.config).preview.enabled
    admin = desk_member("ada", "desk admin")
    assert builder_post(client_for(admin), preset, off).status_code == 302
    preset.refresh_from_db()
    assert preset.preview_off_by == admin
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status != Job.Status.AWAITING_REVIEW
    assert job.plan_versions.get(approved_at__isnull=False).approved_by == admin


def test_a_preset_with_review_off_that_nobody_allowed_still_waits_for_review(tiny_pipeline, preset):
    preset.config = {**preset.config, "preview": {"enabled": False}}
    preset.save()  # outside the studio and the admin: nobody who may publish unreviewed turned it off
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


def test_the_batch_grid_skips_the_preview_only_for_a_desk_admin(tiny_pipeline, preset):
    job = services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g", "batch": True})
    reviewer = client_for(desk_member("rita", "reviewer"))
    assert "skip-selected" not in reviewer.get("/studio/batch/").content.decode()
    response = reviewer.post("/studio/batch/action", json.dumps({"action": "skip", "jobs": [str(job.pk)]}),
                             content_type="application/json")
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.AWAITING_REVIEW


# ------------------------------------------------------------------------------------------- login and requests


@pytest.mark.parametrize("login", ["/login/", "/admin/login/"])
def test_login_is_throttled_after_five_wrong_passwords(login):
    desk_member("rita", "reviewer")
    client = Client()
    for _ in range(5):
        client.post(login, {"username": "rita", "password": "wrong"})
    response = client.post(f"{login}?next=/studio/", {"username": "rita", "password": "pw-rita"})
    assert response.status_code == 429 and "try again" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("login", ["/login/", "/admin/login/"])
def test_a_right_password_after_a_few_typos_logs_in_and_lands_on_the_studio(login):
    desk_member("rita", "reviewer")
    client = Client()
    for _ in range(2):
        client.post(login, {"username": "rita", "password": "wrong"})
    response = client.post(f"{login}?next=https://evil.example/", {"username": "rita", "password": "pw-rita"})
    assert response.status_code == 302 and response["Location"] == "/studio/"


def test_the_studio_has_its_own_login_page_and_a_logout():
    """The login page is the studio's (not the admin's), says where a first password comes from, and the
    header's Log out ends the session (a POST: a link a page could embed does not log anyone out)."""
    desk_member("rita", "reviewer")
    client = Client()
    page = client.get("/studio/", follow=True)
    assert page.redirect_chain[-1][0] == "/login/?next=/studio/"
    assert b"Log in to the studio" in page.content and b"admin-password.txt" in page.content
    response = client.post("/login/?next=/studio/calendar/", {"username": "rita", "password": "pw-rita",
                                                              "next": "/studio/calendar/"})
    assert response.status_code == 302 and response["Location"] == "/studio/calendar/"
    assert b'action="/logout/"' in client.get("/studio/").content
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/studio/").status_code == 302


@pytest.fixture
def web_server(tmp_path):
    """Only the web server (mediaengine.server, as `make run` starts it), on a port of its own."""
    from tests.stack import Stack, accepts, free_port, server_env

    port = free_port()
    stack = Stack(server_env(tmp_path / "media", tmp_path), tmp_path)
    process = stack.start_web(port)
    assert accepts(port), stack.log("web")[-2000:]
    yield port, process
    stack.stop()


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _send(port: int, head: bytes, body_chunks, chunk: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        try:
            for _ in range(body_chunks):
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what follows is not read
        answer = b""
        try:
            while data := conn.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


def test_a_huge_body_is_refused_before_it_is_buffered(web_server):
    """given: the web server as shipped
    when: anonymous clients send 300 MB to the login page, declared and chunked
    then: each gets 413 in words as soon as the limit is passed, and the server's memory stays flat"""
    port, process = web_server
    before = _rss_mb(process.pid)
    chunk = b"x" * (1 << 20)
    declared = (b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                b"\r\nContent-Length: " + str(300 << 20).encode() + b"\r\n\r\n")
    answer = _send(port, declared, 300, chunk)
    assert answer.startswith(b"HTTP/1.1 413") and b"too large" in answer
    chunked = b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    framed = hex(len(chunk))[2:].encode() + b"\r\n" + chunk + b"\r\n"
    answer = _send(port, chunked, 300, framed)
    assert answer.startswith(b"HTTP/1.1 413")
    assert _rss_mb(process.pid) - before < 40


def test_pages_send_a_content_security_policy(staff_client):
    policy = staff_client.get("/studio/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


# ------------------------------------------------------------------------------------------------------ the rest


def test_a_jpeg_cut_short_is_refused_however_large_its_header_says_it_is():
    from presets.uploads import UploadRejected, clean_image

    buffer = io.BytesIO()
    Image.new("RGB", (7000, 5700), (200, 30, 40)).save(buffer, "JPEG", quality=90)
    cut = buffer.getvalue()[:3000] + b"\xff\xd9"
    uploaded = io.BytesIO(cut)
    uploaded.name, uploaded.size = "logo.jpg", len(cut)
    with pytest.raises(UploadRejected, match="cut short"):
        clean_image(uploaded)


def test_a_flat_colour_jpeg_is_still_taken():
    from presets.uploads import clean_image

    buffer = io.BytesIO()
    Image.new("RGB", (2000, 2000), (200, 30, 40)).save(buffer, "JPEG", quality=90, progressive=True, optimize=True)
    uploaded = io.BytesIO(buffer.getvalue())
    uploaded.name, uploaded.size = "flat.jpg", len(buffer.getvalue())
    assert clean_image(uploaded).size == (2000, 2000)


def test_old_preset_samples_are_pruned(tmp_path):
    from presets.services import samples_prune

    for index in range(30):
        folder = tmp_path / f"sample-{index:02}"
        folder.mkdir()
        (folder / "outputs.json").write_text("{}")
        stamp = time.time() - 1000 + index
        import os

        os.utime(folder, (stamp, stamp))
    assert samples_prune(tmp_path, keep=24) == 6
    assert sorted(p.name for p in tmp_path.iterdir())[0] == "sample-06"


def test_the_admin_offers_job_actions_only_to_roles_that_may_take_them(tiny_pipeline, preset):
    services.job_create(preset=preset, inputs={"sport": "nfl", "matchup_id": "g"})
    offered = {}
    for role in ("reviewer", "designer", "desk admin"):
        page = client_for(desk_member(role.replace(" ", ""), role)).get("/admin/jobs/job/").content.decode()
        offered[role] = {action for action in ("retry", "cancel") if f'value="{action}"' in page}
    assert offered == {"reviewer": {"retry"}, "designer": set(), "desk admin": {"retry", "cancel"}}


def test_the_embedded_default_makes_its_own_secret_key(tmp_path, monkeypatch):
    from mediaengine import env

    monkeypatch.setattr(env, "VAR_DIR", tmp_path / "one")
    first = env.embedded_secret_key()
    assert first == env.embedded_secret_key() and len(first) >= 50
    assert (tmp_path / "one" / "secret-key.txt").stat().st_mode & 0o077 == 0
    monkeypatch.setattr(env, "VAR_DIR", tmp_path / "two")
    assert env.embedded_secret_key() != first


def test_no_secret_key_is_written_in_the_repository():
    from django.conf import settings

    from mediaengine import env

    source = (settings.BASE_DIR / "mediaengine" / "settings" / "dev.py").read_text()
    assert settings.SECRET_KEY not in source and settings.SECRET_KEY == env.embedded_secret_key()


def test_a_configuration_error_is_what_an_unknown_destination_gives(tmp_path):
    from pipeline.context import LayerContext
    from pipeline.layers import l7_distribution
    from pipeline.registry import LayerInput

    config = PresetConfig.model_validate({"format": {"kind": "reel", "width": 1080, "height": 1920},
                                          "providers": {"distribution": {"name": "gone"}}})
    ctx = LayerContext(job_id="t", layer="L7", work_dir=tmp_path, options={"DESTINATIONS": {}})
    with pytest.raises(ConfigurationError, match="no destination is called 'gone'"):
        l7_distribution.run(LayerInput(job=None, preset=config, upstream={"L6": None}), ctx)
