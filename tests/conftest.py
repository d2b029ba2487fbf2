import pytest
from django.contrib.auth import get_user_model

from presets.models import Preset
from tests.pipelines import WORK_DONE


def pytest_collection_modifyitems(config, items):
    """Browser tests last when the suite runs in one process: they are the slowest, and a failure elsewhere should
    show first. Across pytest-xdist's workers they go first instead, the longest work handed out before the short
    (the workers then finish together rather than one waiting on the other's last browser)."""
    slow_first = bool(getattr(config.option, "numprocesses", None))
    def slow(item) -> bool:
        return item.get_closest_marker("browser") is not None or (
            slow_first and item.get_closest_marker("heavy") is not None)

    items.sort(key=lambda item: slow(item) != slow_first)


REEL_CONFIG = {"format": {"kind": "reel", "width": 1080, "height": 1920, "fps": 30}}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes its job folders under its own temporary MEDIA_ROOT."""
    from pipeline import text

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PIPELINE = {**settings.PIPELINE, "EXPORT_DIR": tmp_path / "export"}
    text.configure(settings.MEDIA_ROOT / "brand" / "fonts")
    return settings.MEDIA_ROOT


@pytest.fixture
def tiny_pipeline(settings):
    """Run jobs through tests.pipelines.tiny_pipeline instead of the real layers."""
    settings.PIPELINE = {**settings.PIPELINE, "FACTORY": "tests.pipelines.tiny_pipeline"}
    WORK_DONE.clear()
    return WORK_DONE


@pytest.fixture
def destination(db, settings):
    """Makes a delivery destination as a desk admin sets one up in the admin (checked by its clean()). A
    webhook on the test's listener needs 127.0.0.1 among the operator's allowed hosts, as a desk's office
    receiver would."""
    from presets.models import Destination

    def make(name: str = "folder", *, kind: str = "folder", folder: str = "", url: str = "") -> Destination:
        if kind == "webhook":
            settings.PIPELINE = {**settings.PIPELINE, "DELIVERY_ALLOWED_HOSTS": ["127.0.0.1"]}
        made = Destination(name=name, kind=kind, folder=folder, url=url)
        made.full_clean()
        made.save()
        return made

    return make


@pytest.fixture
def preset(db):
    return Preset.objects.create(slug="test-reel", name="Test reel", kind="reel", config=REEL_CONFIG)


def desk_member(username: str, *groups: str):
    """A staff user in the given desk groups (core.access.DESK_GROUPS), made as `setup` makes them."""
    from django.contrib.auth.models import Group

    from core.access import desk_groups_ensure

    desk_groups_ensure()
    user = get_user_model().objects.create_user(username, password=f"pw-{username}", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def staff_user(db):
    """A staff user who may do everything the studio offers (a desk admin)."""
    return desk_member("reviewer", "desk admin")


@pytest.fixture
def bare_staff_user(db):
    """Staff, so the admin lets them log in, but in no group: they may do nothing."""
    return get_user_model().objects.create_user("newcomer", password="pw-newcomer", is_staff=True)


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user("viewer", password="pw-viewer", is_staff=False)


@pytest.fixture
def staff_client(staff_user):
    """A test client logged in as a staff user."""
    from django.test import Client

    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("boss", password="pw-boss", email="")


@pytest.fixture
def upstream():
    """A fake upstream API on 127.0.0.1 with scriptable faults (tests/fakes/upstream.py)."""
    from tests.fakes import upstream as fake

    server = fake.start()
    yield server
    fake.stop(server)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A real S3-compatible server on 127.0.0.1 (tests/objectstore.py)."""
    from tests.objectstore import start_server
    from tests.stack import stop_group

    endpoint, process = start_server(tmp_path_factory.mktemp("s3-logs"))
    yield endpoint
    if process is not None:
        process.terminate()
        stop_group(process, timeout=10)


@pytest.fixture
def object_store(s3_endpoint, settings, tmp_path):
    """The product switched to object storage, as STORAGE_URL switches it: a fresh bucket on the S3 server,
    and this machine's scratch folder (`SCRATCH_ROOT`) apart from MEDIA_ROOT."""
    from jobs.files import brand_folder
    from mediaengine import env
    from pipeline import text
    from tests.objectstore import new_bucket

    bucket = new_bucket(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": env.default_storage(env.storage_options(bucket.url))}
    settings.SCRATCH_ROOT = tmp_path / "scratch-web"
    text.configure(brand_folder() / "fonts")
    yield bucket
    text.configure(settings.MEDIA_ROOT / "brand" / "fonts")


@pytest.fixture(params=["local disk", "object store"])
def storage_backend(request):
    """Run a test once on local disk and once on the S3 server."""
    if request.param == "object store":
        return request.getfixturevalue("object_store")
    return None
