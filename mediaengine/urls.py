from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from jobs import views as ops
from previews.views import files as studio_files

admin.site.site_header = "Media Engine"
admin.site.site_title = "Media Engine"
admin.site.index_title = "Presets, jobs and renders"

urlpatterns = [
    path("", RedirectView.as_view(url="/studio/", permanent=False)),
    # The studio's own login (django-axes throttles it as it does the admin's), and a logout in its header.
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("admin/", admin.site.urls),
    path("studio/", include("previews.urls")),
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("engagement", ops.engagement, name="engagement"),
    # A webhook's signed file links: the token is the credential (no login), and it expires.
    path("files/<str:token>", studio_files.file_link, name="file-link"),
]
