"""ASGI entry point: HTTP through Django, WebSockets through Channels (staff only)."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediaengine.settings.dev")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddleware, get_user  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from jobs.routing import websocket_urlpatterns  # noqa: E402


class PooledAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, reading the session's user in the thread pool: on asgiref's one
    thread-sensitive thread every socket's handshake queued behind every other (71 of 109 timed out under load)."""

    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await database_sync_to_async(get_user.func, thread_sensitive=False)(scope)


application = ProtocolTypeRouter({
    # Static files are few and small (JS modules, fonts); Django serves them itself so the
    # embedded setup needs no web server in front. Media always goes through the checked view.
    "http": ASGIStaticFilesHandler(django_asgi_app),
    "websocket": AllowedHostsOriginValidator(CookieMiddleware(SessionMiddleware(PooledAuthMiddleware(
        URLRouter(websocket_urlpatterns))))),
})
