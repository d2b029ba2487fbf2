"""The one place that reads the environment.

Every setting that can change between machines is read here, with the
embedded default that lets `make run` work with nothing configured.
"""
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# SQLite in WAL mode is the embedded default; production sets DATABASE_URL to PostgreSQL.
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# Optional: turns on the Redis channel layer and cache.
REDIS_URL = env.str("REDIS_URL", default="")

MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Job files and brand uploads: on local disk under MEDIA_ROOT by default; in an S3-compatible bucket when
# STORAGE_URL (s3://bucket/prefix?endpoint_url=...&region_name=..., keys as user:password or from AWS_*)
# or AWS_STORAGE_BUCKET_NAME is set, for web and workers on several machines.
STORAGE_URL = env.str("STORAGE_URL", default="")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
# With object storage, each machine's layers work in this local folder (fetched inputs, outputs before they
# are published). With local disk it is MEDIA_ROOT itself: the store and the work folder are one.
SCRATCH_ROOT = env.str("SCRATCH_ROOT", default="")
# How long a signed link to a job file lasts (the studio's media, the webhook's files).
SIGNED_URL_SECONDS = env.int("SIGNED_URL_SECONDS", default=300)
# How long the links a webhook carries to each file last (a receiver may queue its download for days).
WEBHOOK_URL_SECONDS = env.int("WEBHOOK_URL_SECONDS", default=7 * 24 * 3600)
# Where receivers outside reach this studio: the signed file links of a webhook start with it (local disk;
# with object storage the links point at the store).
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000")
LOG_DIR = Path(env.str("LOG_DIR", default=str(VAR_DIR / "log")))
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

# The layers jobs run (tests point worker processes at small test pipelines with this).
PIPELINE_FACTORY = env.str("PIPELINE_FACTORY", default="pipeline.layers.default_pipeline")

# Workers and timing.
Q_WORKERS = env.int("Q_WORKERS", default=2)
LAYER_TIMEOUT_S = env.int("LAYER_TIMEOUT_S", default=900)
# How many attempts of a layer may time out or lose their worker (killed, OOM, a deploy) without getting
# further than the attempts before them, before the job fails. Five: losing a worker is not the render's
# fault, and a render killed three times in a busy hour should still finish; a task that kills its worker
# at the same point every time still stops.
LAYER_MAX_ATTEMPTS = env.int("LAYER_MAX_ATTEMPTS", default=5)
# L6 renders take longer than the other layers: its task gets a timeout of its own.
RENDER_TIMEOUT_S = env.int("RENDER_TIMEOUT_S", default=1800)
HEARTBEAT_STALE_S = env.int("HEARTBEAT_STALE_S", default=120)
RENDER_CHUNK_SECONDS = env.float("RENDER_CHUNK_SECONDS", default=0.0)
# Render a plan's scene chunks while it waits for review, on workers nothing else needs, so that
# approving it costs only the join.
RENDER_AHEAD = env.bool("RENDER_AHEAD", default=True)

# FFmpeg: the binary imageio-ffmpeg ships, unless this names another.
FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="")

# Encoder settings for L6 (the bench workload's settings by default).
RENDER_PRESET = env.str("RENDER_PRESET", default="veryfast")

# /metrics asks for this bearer token when it is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# POST /engagement (posts' figures from the social platforms) takes this bearer token; unset, it takes nothing.
ENGAGEMENT_TOKEN = env.str("ENGAGEMENT_TOKEN", default="")

# Provider credentials: only ever from the environment.
BALLDONTLIE_API_KEY = env.str("BALLDONTLIE_API_KEY", default="")
BALLDONTLIE_BASE_URL = env.str("BALLDONTLIE_BASE_URL", default="https://api.balldontlie.io")
GOATEDBETS_API_KEY = env.str("GOATEDBETS_API_KEY", default="")
GOATEDBETS_BASE_URL = env.str("GOATEDBETS_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="https://api.openai.com")
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env.str("ANTHROPIC_BASE_URL", default="https://api.anthropic.com")
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="")
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="https://generativelanguage.googleapis.com")
ELEVENLABS_API_KEY = env.str("ELEVENLABS_API_KEY", default="")
ELEVENLABS_BASE_URL = env.str("ELEVENLABS_BASE_URL", default="https://api.elevenlabs.io")
FLUX_API_KEY = env.str("FLUX_API_KEY", default="")
FLUX_BASE_URL = env.str("FLUX_BASE_URL", default="https://api.bfl.ai")
COMFYUI_BASE_URL = env.str("COMFYUI_BASE_URL", default="http://127.0.0.1:8188")
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="")
EXPORT_DIR = Path(env.str("EXPORT_DIR", default=str(VAR_DIR / "export")))
# Hosts a webhook destination may reach over plain http or at a private address (an office receiver, a test's
# listener on 127.0.0.1); every other destination must be https on a public address (pipeline/net.py).
DELIVERY_ALLOWED_HOSTS = env.list("DELIVERY_ALLOWED_HOSTS", default=[])


# Publishing to the platforms (L7, pipeline/publish): the app's OAuth client from each platform's developer
# portal, and the platform's addresses (the real ones by default; tests point them at fakes on loopback). A
# platform whose client id is unset cannot be connected, and the Accounts page says so.
PLATFORM_DEFAULTS = {
    "instagram": {"authorize_url": "https://www.instagram.com/oauth/authorize",
                  "token_url": "https://api.instagram.com/oauth/access_token",
                  "api_url": "https://graph.instagram.com/v24.0", "revoke_url": ""},
    "tiktok": {"authorize_url": "https://www.tiktok.com/v2/auth/authorize/",
               "token_url": "https://open.tiktokapis.com/v2/oauth/token/",
               "api_url": "https://open.tiktokapis.com", "revoke_url": "https://open.tiktokapis.com/v2/oauth/revoke/"},
    "youtube": {"authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
                "token_url": "https://oauth2.googleapis.com/token", "api_url": "https://www.googleapis.com",
                "revoke_url": "https://oauth2.googleapis.com/revoke",
                "analytics_url": "https://youtubeanalytics.googleapis.com"},
    "x": {"authorize_url": "https://x.com/i/oauth2/authorize", "token_url": "https://api.x.com/2/oauth2/token",
          "api_url": "https://api.x.com", "revoke_url": "https://api.x.com/2/oauth2/revoke"},
}
PLATFORMS = {
    name: {"client_id": env.str(f"{name.upper()}_CLIENT_ID", default=""),
           "client_secret": env.str(f"{name.upper()}_CLIENT_SECRET", default=""),
           **{key: env.str(f"{name.upper()}_{key.upper()}", default=value) for key, value in urls.items()}}
    for name, urls in PLATFORM_DEFAULTS.items()
}
# The key the connected accounts' tokens are encrypted with at rest (Fernet: 32 url-safe base64 bytes; several,
# comma-separated, to rotate: the first encrypts, all decrypt). Unset: a key derived from SECRET_KEY.
ACCOUNT_TOKEN_KEYS = env.list("ACCOUNT_TOKEN_KEYS", default=[])

# The most connections one process holds to PostgreSQL (its pool; see database_config).
DB_POOL_MAX = env.int("DB_POOL_MAX", default=8)


def database_config() -> dict:
    config = env.db_url_config(DATABASE_URL)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the server read while a worker writes; IMMEDIATE takes the write
        # lock when a transaction starts, so two writers queue instead of failing
        # with "database is locked" half way through.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    else:
        # Under ASGI every request may run in a thread of its own, and persistent connections are kept per
        # thread: CONN_MAX_AGE=60 held 78 connections under a desk's load ("too many clients"). The web server
        # (mediaengine/server.py sets DB_POOL) shares Django's own psycopg pool of at most DB_POOL_MAX instead.
        # Workers are forked by django-q2, which a pool's threads do not survive: they connect per task and
        # close after it (CONN_MAX_AGE 0). One Daphne and one cluster use at most DB_POOL_MAX + Q_WORKERS + 2.
        config["CONN_MAX_AGE"] = 0
        if env.bool("DB_POOL", default=False):
            config.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DB_POOL_MAX, "timeout": 20}
    return config


def storage_options(storage_url: str = STORAGE_URL) -> dict | None:
    """django-storages' S3 options from STORAGE_URL or the AWS_* settings; None for local disk."""
    from urllib.parse import parse_qs, unquote, urlsplit

    options = {"bucket_name": AWS_STORAGE_BUCKET_NAME, "endpoint_url": AWS_S3_ENDPOINT_URL or None,
               "region_name": AWS_S3_REGION_NAME, "access_key": AWS_ACCESS_KEY_ID or None,
               "secret_key": AWS_SECRET_ACCESS_KEY or None, "location": ""}
    if storage_url:
        url = urlsplit(storage_url)
        if url.scheme != "s3" or not url.hostname:
            raise ValueError(f"STORAGE_URL must look like s3://bucket/prefix?endpoint_url=..., not {storage_url!r}")
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        options.update(bucket_name=url.hostname, location=url.path.strip("/"),
                       endpoint_url=query.get("endpoint_url", options["endpoint_url"]),
                       region_name=query.get("region_name", options["region_name"]))
        if url.username:
            options.update(access_key=unquote(url.username), secret_key=unquote(url.password or ""))
    if not options["bucket_name"]:
        return None
    return options


def channel_layer_host(redis_url: str) -> dict:
    """The Redis connection of the Channels layer. channels-redis waits on Redis for 5 s at a time (BZPOPMIN)
    for a socket's next message, and redis-py 8 gives up reading after 5 s by default: the two raced, and quiet
    sockets were closed (1011, "Timeout reading", django/channels_redis#422) about every 36 s. Reads wait longer
    than the layer's own wait; the pool is large enough for a desk's sockets leaving at once (redis-py's default
    of 100 made 90 of 200 disconnects fail with "Too many connections")."""
    return {"address": redis_url, "socket_timeout": 30, "socket_connect_timeout": 5, "socket_keepalive": True,
            "health_check_interval": 15, "max_connections": 1000}


def storage_origin(options: dict | None) -> list[str]:
    """The origin the bucket's signed links point at (for the pages' CSP); none on local disk."""
    if options is None:
        return []
    from urllib.parse import urlsplit

    if options.get("endpoint_url"):
        url = urlsplit(options["endpoint_url"])
        return [f"{url.scheme}://{url.netloc}"]
    return ["https://*.amazonaws.com"]


def embedded_secret_key() -> str:
    """The embedded default's own secret key, made once per install and kept in var/ (0600), like the admin's
    password: no two installs share one, and none is in the repository."""
    import os
    import secrets
    import tempfile

    path = VAR_DIR / "secret-key.txt"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=VAR_DIR, prefix=".secret-key-")
        try:
            os.write(fd, (secrets.token_urlsafe(50) + "\n").encode())
            os.close(fd)
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # atomic and exclusive: the web server and the workers start at once
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def default_storage(options: dict | None) -> dict:
    """STORAGES["default"]: local disk (following MEDIA_ROOT), or the S3 bucket of `options`."""
    if options is None:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    from botocore.config import Config

    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        **options, "querystring_auth": True, "querystring_expire": SIGNED_URL_SECONDS, "file_overwrite": True,
        # Path-style addressing works with every S3-compatible server; signed links use SigV4, which carries
        # its own expiry. The store is an outside service: the same patience as every other (pipeline/http.py).
        "client_config": Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                retries={"max_attempts": 9, "mode": "standard"}, connect_timeout=5,
                                read_timeout=60)}}
