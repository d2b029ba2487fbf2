"""The studio's gate: pages send anonymous users to log in; JSON endpoints answer 403 in JSON. A view names the
permissions it needs for reading (GET) and, where it differs, for changing (POST). The rules themselves (the
permission sets, the desk's groups, `can`) are core/access.py's; the views name them through this module.
"""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden, JsonResponse

from core.access import (  # noqa: F401 (the views name the rules through this module)
    ADD_PRESETS,
    BATCH,
    CONNECT_ACCOUNTS,
    DESK_GROUPS,
    EDIT_PRESETS,
    PUBLISH_UNREVIEWED,
    RERUN,
    REVIEW,
    START_JOBS,
    UPLOAD_BRAND,
    VIEW_ACCOUNTS,
    VIEW_JOBS,
    VIEW_PRESETS,
    can,
)


def staff_required(api: bool = False, perms=VIEW_JOBS, post_perms=None):
    """Only active staff holding `perms` (on POST: `post_perms`, when given) get through."""
    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            needed = post_perms if post_perms is not None and request.method == "POST" else perms
            if can(user, needed):
                return view(request, *args, **kwargs)
            if api:
                message = "staff only" if not getattr(user, "is_staff", False) else (
                    "you do not have permission for this: ask a desk admin for " + ", ".join(
                        p for p in needed if not user.has_perm(p)))
                return JsonResponse({"error": message}, status=403)
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_staff:
                return HttpResponseForbidden("The studio is for staff only.")
            return HttpResponseForbidden("You do not have permission for this page; ask a desk admin.")

        return wrapped

    return decorate
