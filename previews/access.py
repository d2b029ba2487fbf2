"""Studio access: staff only. Pages send anonymous users to log in; JSON endpoints answer 403 in JSON."""
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden, JsonResponse


def staff_required(api: bool = False):
    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and user.is_active and user.is_staff:
                return view(request, *args, **kwargs)
            if api:
                return JsonResponse({"error": "staff only"}, status=403)
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return HttpResponseForbidden("The studio is for staff only.")

        return wrapped

    return decorate
