"""Who may do what at the desk: Django's permissions (the same ones the admin checks), the desk's groups made
from them by `manage.py setup` (reviewers, designers, desk admins), and `can`, the one test every gate uses:
the studio's pages and endpoints (previews/access.py's staff_required), the job socket (jobs/consumers.py)."""
from __future__ import annotations

VIEW_JOBS = ("jobs.view_job",)
START_JOBS = ("jobs.view_job", "jobs.add_job")
REVIEW = ("jobs.view_job", "jobs.review_job")
RERUN = ("jobs.view_job", "jobs.rerun_job")
BATCH = ("jobs.view_job", "jobs.review_job", "jobs.batch_review_job")
# Rendering and delivering a plan nobody looked at: skip preview, "Render without review" at the start, a
# preset with review off. Its own permission: only the desk admin group has it.
PUBLISH_UNREVIEWED = ("jobs.view_job", "jobs.review_job", "jobs.publish_unreviewed")
VIEW_PRESETS = ("presets.view_preset",)
EDIT_PRESETS = ("presets.view_preset", "presets.change_preset")
ADD_PRESETS = ("presets.view_preset", "presets.add_preset")
UPLOAD_BRAND = ("presets.view_preset", "presets.change_preset", "presets.upload_brand_files")
# Connecting the brand's platform accounts (their tokens publish in the brand's name): desk admins only.
VIEW_ACCOUNTS = ("presets.view_account",)
CONNECT_ACCOUNTS = ("presets.view_account", "presets.connect_account")

# What each of the desk's groups may do (README: "Who may do what").
DESK_GROUPS = {
    "reviewer": [*START_JOBS, "jobs.review_job", "jobs.rerun_job", "jobs.batch_review_job", *VIEW_PRESETS],
    "designer": [*START_JOBS, *EDIT_PRESETS, "presets.add_preset", "presets.upload_brand_files"],
    "desk admin": [f"{app}.{action}_{model}" for app, model in (("jobs", "job"), ("presets", "preset"))
                   for action in ("view", "add", "change", "delete")]
                  + ["jobs.review_job", "jobs.rerun_job", "jobs.batch_review_job", "jobs.publish_unreviewed",
                     "presets.upload_brand_files",
                     *[f"presets.{action}_destination" for action in ("view", "add", "change", "delete")],
                     "presets.view_account", "presets.connect_account",
                     *[f"jobs.{action}_{model}" for model in ("layerrun", "asset", "jobevent", "planversion", "render")
                       for action in ("view", "change")]],
}


def can(user, perms) -> bool:
    """Staff with every permission in `perms` (superusers have them all)."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff and user.has_perms(perms))



def desk_groups_ensure() -> dict[str, int]:
    """Create the desk's groups with their permissions (idempotent); returns how many each holds."""
    from django.contrib.auth.models import Group, Permission

    counts = {}
    for name, perms in DESK_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in dict.fromkeys(perms):
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        counts[name] = len(wanted)
    return counts
