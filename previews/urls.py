from django.urls import path

from previews import views

app_name = "previews"

urlpatterns = [
    path("", views.studio_index, name="index"),
    path("jobs/<uuid:job_id>/files/<path:path>", views.job_file, name="job-file"),
]
