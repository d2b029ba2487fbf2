"""The Presets pages: the list, the builder with real thumbnails, duplicating, and the brand's uploads (logos, fonts,
references)."""
from __future__ import annotations

import json

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.store import brand_fetch
from pipeline.contracts import PresetConfig
from pipeline.errors import PipelineError
from presets.models import Preset
from previews import access
from previews.access import staff_required
from previews.views.common import REFUSED, json_body, refusal


@staff_required(perms=access.VIEW_PRESETS)
@require_GET
def presets_index(request):
    """The presets, each opening in the studio's preset editor (it was reachable only through the admin)."""
    presets = Preset.objects.order_by("-active", "name")
    return render(request, "previews/presets.html", {
        "presets": [{"preset": p, "config": PresetConfig.model_validate(p.config)} for p in presets],
        "may_edit": access.can(request.user, access.EDIT_PRESETS)})


@staff_required(perms=access.VIEW_PRESETS, post_perms=access.EDIT_PRESETS)
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def preset_builder(request, slug):
    from presets import editor
    from presets.forms import PresetForm

    preset = get_object_or_404(Preset, slug=slug)
    form = PresetForm(request.POST or None, instance=preset)
    form.user = request.user
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Preset {preset.name} saved.")
        return redirect("previews:preset", slug=form.instance.slug)
    return render(request, "previews/preset.html", {
        "preset": preset, "form": form, "sections": editor.SECTIONS, "fonts": editor.fonts(),
        "references": PresetConfig.model_validate(preset.config).brand.references,
        "team_logos": sorted(PresetConfig.model_validate(preset.config).brand.team_logos),
        "fonts_json": json.dumps(editor.fonts()), "zones_json": json.dumps(editor.platform_zones()),
    }, status=400 if request.method == "POST" else 200)


@staff_required(api=True, perms=access.EDIT_PRESETS)
@require_POST
def preset_thumbnails(request, slug):
    """The config being edited -> field errors, or thumbnails drawn by the real renderer from a sample plan."""
    from presets.models import config_errors
    from presets.services import preset_thumbnails as thumbnails
    from presets.services import sample_lengths

    get_object_or_404(Preset, slug=slug)
    try:
        config = json_body(request).get("config")
    except REFUSED as exc:
        return refusal(exc)
    if not isinstance(config, dict):
        return JsonResponse({"errors": {"config": ["the config must be a JSON object"]}}, status=400)
    if errors := config_errors(config):
        return JsonResponse({"errors": errors}, status=400)
    try:
        parsed = PresetConfig.model_validate(config)
        return JsonResponse({"thumbnails": thumbnails(parsed), "lengths": sample_lengths(parsed)})
    except PipelineError as exc:
        return JsonResponse({"errors": {exc.field or "config": [exc.describe()]}}, status=400)


@staff_required(perms=access.ADD_PRESETS)
@require_POST
def preset_duplicate(request, slug):
    from presets.services import preset_duplicate as duplicate

    copy = duplicate(preset=get_object_or_404(Preset, slug=slug))
    messages.success(request, f"Duplicated as {copy.slug} (inactive until you turn it on).")
    return redirect("previews:preset", slug=copy.slug)


@staff_required(perms=access.UPLOAD_BRAND)
@require_POST
def preset_upload(request, slug, what):
    from presets import services as preset_services
    from presets.uploads import UploadRejected

    preset = get_object_or_404(Preset, slug=slug)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, "Choose a file to upload.")
        return redirect("previews:preset", slug=slug)
    try:
        if what == "logo":
            name = preset_services.preset_set_logo(preset=preset, uploaded=uploaded)
        elif what == "reference":
            name = preset_services.preset_add_reference(preset=preset, uploaded=uploaded)
        elif what == "team":
            name = preset_services.preset_set_team_logo(preset=preset, uploaded=uploaded,
                                                        team=request.POST.get("team", ""))
        else:
            name = preset_services.preset_add_font(preset=preset, uploaded=uploaded,
                                                   role=request.POST.get("role", "heading_font"),
                                                   family=request.POST.get("family", ""))
    except (UploadRejected, ValueError) as exc:
        messages.error(request, f"{uploaded.name} was refused: {exc}")
    else:
        messages.success(request, f"{uploaded.name} saved as {name}.")
    return redirect("previews:preset", slug=slug)


@staff_required(perms=access.UPLOAD_BRAND)
@require_POST
def preset_reference_remove(request, slug, name: str):
    from presets.services import preset_remove_reference

    preset = get_object_or_404(Preset, slug=slug)
    try:
        preset_remove_reference(preset=preset, name=name)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Reference image {name} removed.")
    return redirect("previews:preset", slug=slug)


@staff_required(api=True, perms=access.VIEW_PRESETS)
@require_GET
def preset_reference(request, slug, name: str):
    """One of the preset's reference images (only the ones it names, from the brand folder)."""
    preset = get_object_or_404(Preset, slug=slug)
    if name not in PresetConfig.model_validate(preset.config).brand.references:
        raise Http404("No such reference image.")
    path = brand_fetch() / name
    if not path.is_file():
        raise Http404("No such reference image.")
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response
