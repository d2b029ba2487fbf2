"""The studio's table of contents: every page and endpoint under /studio/, by page family (previews/views/)."""
from django.urls import path

from previews.views import accounts, delivery, files, operators, presets, review, studio, together

app_name = "previews"

urlpatterns = [
    # The studio: the list of jobs and the start form
    path("", studio.studio_index, name="index"),
    path("matchups", studio.matchups, name="matchups"),
    path("jobs/<uuid:job_id>/archive", studio.job_archive, name="job-archive"),

    # Reviewing a job: the page, its plan and frames, drafts, suggestions, the decisions
    path("jobs/<uuid:job_id>/frames", review.job_frames, name="job-frames"),
    path("jobs/<uuid:job_id>/", review.job_detail, name="job"),
    path("jobs/<uuid:job_id>/plan", review.job_plan, name="job-plan"),
    path("jobs/<uuid:job_id>/approve", review.job_approve, name="job-approve"),
    path("jobs/<uuid:job_id>/draft", review.job_draft, name="job-draft"),
    path("jobs/<uuid:job_id>/rollback", review.job_rollback, name="job-rollback"),
    path("jobs/<uuid:job_id>/suggestions", review.job_suggestions, name="job-suggestions"),
    path("jobs/<uuid:job_id>/picture", review.job_picture, name="job-picture"),
    path("jobs/<uuid:job_id>/skip-preview", review.job_skip_preview, name="job-skip-preview"),
    path("jobs/<uuid:job_id>/reject", review.job_reject, name="job-reject"),
    path("jobs/<uuid:job_id>/retry", review.job_retry, name="job-retry"),
    path("jobs/<uuid:job_id>/rerun", review.job_rerun, name="job-rerun"),
    path("jobs/<uuid:job_id>/sprites/<str:key>.png", review.job_sprite, name="sprite"),

    # The desk together on a job
    path("jobs/<uuid:job_id>/comments", together.job_comments, name="job-comments"),
    path("jobs/<uuid:job_id>/comments/<int:comment_id>/resolve", together.job_comment_resolve,
         name="job-comment-resolve"),

    # A job's files and recordings, and the brand's fonts
    path("jobs/<uuid:job_id>/files/<path:path>", files.job_file, name="job-file"),
    path("jobs/<uuid:job_id>/download.zip", files.job_download, name="job-download"),
    path("jobs/<uuid:job_id>/recording", files.job_recording, name="job-recording"),
    path("fonts/<str:name>", files.font_file, name="font"),

    # When it goes out: the slot and the calendar
    path("jobs/<uuid:job_id>/delivery", delivery.job_delivery, name="job-delivery"),
    path("calendar/", delivery.calendar, name="calendar"),

    # Operating the desk: metrics, batch review, variants
    path("metrics/", operators.metrics_dashboard, name="metrics"),
    path("batch/", operators.batch_review, name="batch"),
    path("variants/<uuid:group>/", operators.variants, name="variants"),
    path("batch/action", operators.batch_action, name="batch-action"),

    # Presets and the brand's uploads
    path("presets/", presets.presets_index, name="presets"),
    path("presets/<slug:slug>/", presets.preset_builder, name="preset"),
    path("presets/<slug:slug>/thumbnails", presets.preset_thumbnails, name="preset-thumbnails"),
    path("presets/<slug:slug>/duplicate", presets.preset_duplicate, name="preset-duplicate"),
    path("presets/<slug:slug>/upload/<str:what>", presets.preset_upload, name="preset-upload"),
    path("presets/<slug:slug>/references/<str:name>", presets.preset_reference, name="preset-reference"),
    path("presets/<slug:slug>/references/<str:name>/remove", presets.preset_reference_remove,
         name="preset-reference-remove"),

    # The brand's platform accounts
    path("accounts/", accounts.accounts_page, name="accounts"),
    path("accounts/connect/<str:platform>", accounts.account_connect, name="account-connect"),
    path("accounts/callback/<str:platform>", accounts.account_callback, name="account-callback"),
    path("accounts/<int:account_id>/disconnect", accounts.account_disconnect, name="account-disconnect"),
]
