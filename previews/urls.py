from django.urls import path

from previews import views

app_name = "previews"

urlpatterns = [
    path("", views.studio_index, name="index"),
    path("matchups", views.matchups, name="matchups"),
    path("metrics/", views.metrics_dashboard, name="metrics"),
    path("batch/", views.batch_review, name="batch"),
    path("variants/<uuid:group>/", views.variants, name="variants"),
    path("batch/action", views.batch_action, name="batch-action"),
    path("jobs/<uuid:job_id>/frames", views.job_frames, name="job-frames"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/plan", views.job_plan, name="job-plan"),
    path("jobs/<uuid:job_id>/approve", views.job_approve, name="job-approve"),
    path("jobs/<uuid:job_id>/draft", views.job_draft, name="job-draft"),
    path("jobs/<uuid:job_id>/rollback", views.job_rollback, name="job-rollback"),
    path("jobs/<uuid:job_id>/suggestions", views.job_suggestions, name="job-suggestions"),
    path("jobs/<uuid:job_id>/picture", views.job_picture, name="job-picture"),
    path("jobs/<uuid:job_id>/comments", views.job_comments, name="job-comments"),
    path("jobs/<uuid:job_id>/comments/<int:comment_id>/resolve", views.job_comment_resolve,
         name="job-comment-resolve"),
    path("jobs/<uuid:job_id>/skip-preview", views.job_skip_preview, name="job-skip-preview"),
    path("jobs/<uuid:job_id>/reject", views.job_reject, name="job-reject"),
    path("jobs/<uuid:job_id>/retry", views.job_retry, name="job-retry"),
    path("jobs/<uuid:job_id>/rerun", views.job_rerun, name="job-rerun"),
    path("jobs/<uuid:job_id>/files/<path:path>", views.job_file, name="job-file"),
    path("jobs/<uuid:job_id>/download.zip", views.job_download, name="job-download"),
    path("jobs/<uuid:job_id>/recording", views.job_recording, name="job-recording"),
    path("jobs/<uuid:job_id>/sprites/<str:key>.png", views.job_sprite, name="sprite"),
    path("jobs/<uuid:job_id>/delivery", views.job_delivery, name="job-delivery"),
    path("calendar/", views.calendar, name="calendar"),
    path("presets/", views.presets_index, name="presets"),
    path("presets/<slug:slug>/", views.preset_builder, name="preset"),
    path("presets/<slug:slug>/thumbnails", views.preset_thumbnails, name="preset-thumbnails"),
    path("presets/<slug:slug>/duplicate", views.preset_duplicate, name="preset-duplicate"),
    path("presets/<slug:slug>/upload/<str:what>", views.preset_upload, name="preset-upload"),
    path("presets/<slug:slug>/references/<str:name>", views.preset_reference, name="preset-reference"),
    path("presets/<slug:slug>/references/<str:name>/remove", views.preset_reference_remove,
         name="preset-reference-remove"),
    path("fonts/<str:name>", views.font_file, name="font"),
]
