"""A job's files: the studio's downloads (one file, the zip, the review recording), the signed links receivers fetch,
and the brand's fonts."""
from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.store import brand_fetch
from jobs import files, services
from jobs.models import Job
from pipeline.contracts import RenderPlan
from pipeline.errors import PipelineError
from previews import access, selectors
from previews.access import staff_required
from previews.media import OutsideJobFolder, clean_job_path, resolve_job_file
from previews.ranges import file_response
from previews.views.common import REFUSED, refusal


@require_http_methods(["GET", "HEAD"])
def file_link(request, token: str):
    """A job file for whoever holds a link `jobs.files.job_file_link` signed, until it expires."""
    from django.core import signing

    try:
        job_id, path = files.job_file_from_link(token)
    except signing.SignatureExpired:
        return HttpResponse("This link has expired: ask for the files to be delivered again.", status=410,
                            content_type="text/plain; charset=utf-8")
    except signing.BadSignature:
        raise Http404("No such file.") from None
    job = get_object_or_404(Job, pk=job_id)
    try:
        real = resolve_job_file(files.job_files_fetch(job.pk), path)
    except OutsideJobFolder:
        raise Http404("No such file.") from None
    return file_response(request, real, cache="private, no-store")


@staff_required(perms=access.VIEW_JOBS)
@require_GET
def job_download(request, job_id):
    """Every file of the job's render in one zip, each named from the job (selectors.download_name), with the
    post copy beside them as each platform will carry it."""
    import tempfile
    import zipfile

    from pipeline.post import texts

    job = get_object_or_404(Job.objects.select_related("preset"), pk=job_id)
    summary = selectors.render_summary(job)
    if summary is None:
        raise Http404("This job has no render to download yet.")
    folder = files.job_files_fetch(job.pk)
    base = summary["zip_name"].removesuffix(".zip")
    spool = tempfile.TemporaryFile()
    # Stored, not deflated: the video and the images are compressed already.
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in summary["files"]:
            archive.write(resolve_job_file(folder, item["file"]), arcname=item["name"])
        plan = RenderPlan.model_validate(summary["render"].plan_version.plan)
        for platform, words in texts(plan.post).items():
            archive.writestr(f"{base}_post-{platform}.txt", words + "\n")
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=summary["zip_name"], content_type="application/zip")


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_http_methods(["GET", "HEAD"])
def job_file(request, job_id, path: str):
    job = get_object_or_404(Job, pk=job_id)
    if files.remote_store() is not None:
        # In the object store: the same checks, then a signed link that expires (SIGNED_URL_SECONDS).
        try:
            key = clean_job_path(path)
        except OutsideJobFolder:
            raise Http404("No such file in this job.") from None
        if not files.job_file_stored(job.pk, key):
            raise Http404("No such file in this job.")
        response = HttpResponseRedirect(files.job_file_url(job.pk, key))
        response["Cache-Control"] = "private, no-store"
        return response
    try:
        real = resolve_job_file(job.work_dir, path)
    except OutsideJobFolder:
        raise Http404("No such file in this job.") from None
    return file_response(request, real)


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_GET
def font_file(request, name: str):
    """Shipped and uploaded fonts, for the review canvas (it draws with the same files as L6)."""
    from pipeline import text

    try:
        path = text.font_path(name)
    except PipelineError:
        brand_fetch()  # uploaded on another machine (object storage): fetch the brand folder once
        try:
            path = text.font_path(name)
        except PipelineError:
            raise Http404("No such font.") from None
    response = FileResponse(path.open("rb"), content_type="font/otf" if name.endswith(".otf") else "font/ttf")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@staff_required(api=True, perms=access.VIEW_JOBS)
@require_POST
def job_recording(request, job_id):
    """A preview recording from the browser: remuxed so that it carries its duration, kept with the job."""
    job = get_object_or_404(Job, pk=job_id)
    uploaded = request.FILES.get("recording")
    if uploaded is None:
        return JsonResponse({"errors": {"recording": ["send the recording as the `recording` file"]}}, status=400)
    try:
        saved = services.recording_save(job=job, uploaded=uploaded, user=request.user)
    except REFUSED as exc:
        return refusal(exc, job_id)
    return JsonResponse({**saved, "url": selectors.file_url(job, saved["file"])})
