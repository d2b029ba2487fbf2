"""Settings shared by every environment. Values that vary come from mediaengine.env."""
from mediaengine import env

BASE_DIR = env.BASE_DIR
DEBUG = False
SECRET_KEY = env.SECRET_KEY
ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_q",
    "axes",
    "presets",
    "jobs",
    "previews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "previews.middleware.StoreUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes: a kept library, its attempts in the database, so every web process sees
# them): five wrong passwords for one user from one address lock that pair out for 15 minutes (429 in words);
# a right password after fewer clears the count. Locking by the pair, not the address alone, keeps one
# person's typos from locking out an office behind one address.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_COOLOFF_MESSAGE = "Too many wrong passwords for this account: try again in 15 minutes, or ask a desk admin."
AXES_VERBOSE = False

ROOT_URLCONF = "mediaengine.urls"
ASGI_APPLICATION = "mediaengine.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if env.REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": [env.channel_layer_host(env.REDIS_URL)]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mediaengine"}}
    # In-memory layer: does not cross processes, so the job socket also reads
    # new JobEvent rows (see jobs/consumers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# After logging in without a usable `next`: the studio (Django's default, /accounts/profile/, is no page here).
LOGIN_REDIRECT_URL = "/studio/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.VAR_DIR / "staticfiles"
MEDIA_ROOT = env.MEDIA_ROOT
# One storage interface for job files and brand uploads (jobs/files.py): local disk, or an S3-compatible
# bucket. With the bucket, layers work in SCRATCH_ROOT and publish what they make.
_s3 = env.storage_options()
# (Local disk has no fixed location: it follows MEDIA_ROOT, which is also where the layers work.)
STORAGES = {"default": env.default_storage(_s3)}
SCRATCH_ROOT = None if _s3 is None else env.Path(env.SCRATCH_ROOT or env.VAR_DIR / "scratch")
# The pages' Content-Security-Policy (django-csp): scripts, styles, fonts and sockets from this origin only, no
# inline script; pictures, audio and fetched files also from the bucket the file links redirect to, and from
# the canvas's own data: and blob: URLs (snapshots, recordings). Pages send it in every environment, so the
# browser tests run the studio under it.
_files_origin = env.storage_origin(_s3)
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:", *_files_origin],
    "media-src": ["'self'", "blob:", *_files_origin],
    "connect-src": ["'self'", *_files_origin],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
SIGNED_URL_SECONDS = env.SIGNED_URL_SECONDS
PUBLIC_URL = env.PUBLIC_URL.rstrip("/")
# Media is never served as plain static files: previews/views/files.py checks the user
# and the path first.
MEDIA_URL = "/media/"

# Uploads are opened by Pillow only within these limits (see presets/uploads.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = 8 * 1024 * 1024
UPLOAD_MAX_PIXELS = 40_000_000

# django-q2: the ORM broker has delivery receipts (a task a dead worker held is
# delivered again after `retry`), so every task is idempotent. Every task's timeout,
# L6's own included, must be below `retry`, or a slow task is handed to a second worker
# while it runs (the jobs.E001 check holds this).
Q_CLUSTER = {
    "name": "mediaengine",
    "orm": "default",
    "workers": env.Q_WORKERS,
    "recycle": 50,
    "timeout": env.LAYER_TIMEOUT_S,
    "retry": max(env.LAYER_TIMEOUT_S, env.RENDER_TIMEOUT_S) + 60,
    "max_attempts": 3,
    "ack_failures": False,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.2,
    "label": "Task queue",
}

PIPELINE = {
    # The layers a job runs (pipeline.registry.Pipeline); tests point this at small layers of their own.
    "FACTORY": env.PIPELINE_FACTORY,
    "HEARTBEAT_STALE_S": env.HEARTBEAT_STALE_S,
    "LAYER_MAX_ATTEMPTS": env.LAYER_MAX_ATTEMPTS,
    "RENDER_TIMEOUT_S": env.RENDER_TIMEOUT_S,
    "RENDER_CHUNK_SECONDS": env.RENDER_CHUNK_SECONDS,
    "RENDER_AHEAD": env.RENDER_AHEAD,
    "RENDER_PRESET": env.RENDER_PRESET,
    "EXPORT_DIR": env.EXPORT_DIR,
    "DELIVERY_ALLOWED_HOSTS": env.DELIVERY_ALLOWED_HOSTS,
    "FFMPEG_BINARY": env.FFMPEG_BINARY,
    "WEBHOOK_URL_SECONDS": env.WEBHOOK_URL_SECONDS,
}

PROVIDER_SECRETS = {
    "balldontlie": {"api_key": env.BALLDONTLIE_API_KEY, "base_url": env.BALLDONTLIE_BASE_URL},
    "goatedbets": {"api_key": env.GOATEDBETS_API_KEY, "base_url": env.GOATEDBETS_BASE_URL},
    "openai": {"api_key": env.OPENAI_API_KEY, "base_url": env.OPENAI_BASE_URL},
    "anthropic": {"api_key": env.ANTHROPIC_API_KEY, "base_url": env.ANTHROPIC_BASE_URL},
    "gemini": {"api_key": env.GEMINI_API_KEY, "base_url": env.GEMINI_BASE_URL},
    "elevenlabs": {"api_key": env.ELEVENLABS_API_KEY, "base_url": env.ELEVENLABS_BASE_URL},
    "flux": {"api_key": env.FLUX_API_KEY, "base_url": env.FLUX_BASE_URL},
    "comfyui": {"api_key": "", "base_url": env.COMFYUI_BASE_URL},
    "webhook": {"api_key": env.WEBHOOK_SECRET, "base_url": ""},
}

# The platforms L7 publishes to, with the scopes each connection asks for (pipeline/publish/oauth.py).
PLATFORM_SCOPES = {
    "instagram": {"scopes": ("instagram_business_basic", "instagram_business_content_publish",
                             "instagram_business_manage_insights"), "pkce": False, "scope_separator": ","},
    "tiktok": {"scopes": ("user.info.basic", "video.publish", "video.list"), "scope_separator": ","},
    "youtube": {"scopes": ("https://www.googleapis.com/auth/youtube.upload",
                           "https://www.googleapis.com/auth/youtube.readonly",
                           "https://www.googleapis.com/auth/yt-analytics.readonly")},
    "x": {"scopes": ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")},
}
PLATFORMS = {name: {**values, **PLATFORM_SCOPES[name]} for name, values in env.PLATFORMS.items()}
ACCOUNT_TOKEN_KEYS = env.ACCOUNT_TOKEN_KEYS

METRICS_TOKEN = env.METRICS_TOKEN
ENGAGEMENT_TOKEN = env.ENGAGEMENT_TOKEN

LOG_DIR = env.LOG_DIR
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"job_context": {"()": "pipeline.log_context.JobContextFilter"}},
    "formatters": {
        "standard": {
            "format": "%(asctime)s %(levelname)s %(name)s job=%(job_id)s layer=%(layer)s %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["job_context"], "formatter": "standard"},
        "pipeline_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(LOG_DIR / "pipeline.log"),
            "filters": ["job_context"],
            "formatter": "standard",
        },
        "errors_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(LOG_DIR / "errors.log"),
            "filters": ["job_context"],
            "formatter": "standard",
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console", "errors_file"], "level": "WARNING"},
    "loggers": {
        "pipeline": {"handlers": ["pipeline_file"], "level": env.LOG_LEVEL},
        "jobs": {"handlers": ["pipeline_file"], "level": env.LOG_LEVEL},
        "presets": {"handlers": ["pipeline_file"], "level": env.LOG_LEVEL},
        "previews": {"handlers": ["pipeline_file"], "level": env.LOG_LEVEL},
        "django_q": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
