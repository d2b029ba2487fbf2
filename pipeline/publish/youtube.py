"""YouTube: Shorts, by the resumable upload of `videos.insert`, and their figures from the Data API.

From Google's reference (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol, videos.insert,
videos.list, and the YouTube Analytics API's reports.query):
- `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status` with the video resource and
  `X-Upload-Content-Length` / `X-Upload-Content-Type` answers 200 with the session's address in `Location`;
- the bytes go by `PUT <session>` with `Content-Range: bytes first-last/total`; 308 "Resume Incomplete" with
  `Range: bytes=0-N` until the last, then 200 or 201 with the video resource (its `id`);
- `PUT <session>` with `Content-Range: bytes */total` and no body asks how far it got (308 + Range, or 200/201 if
  it is complete), so an upload whose answer was lost is found, not sent again; a session lasts a week (404 after);
- a Short is a vertical video up to 3 minutes; the title is at most 100 characters, the description 5,000, and
  neither may hold < or >; `status.selfDeclaredMadeForKids` is the made-for-kids flag;
- errors `{"error": {"code", "message", "errors": [{"domain", "reason"}]}}`: 401 authError, 403 quotaExceeded /
  uploadLimitExceeded / forbidden, 400 invalidTitle / invalidDescription.
"""
from __future__ import annotations

import re

from pipeline.errors import APIError, DistributionError
from pipeline.publish import Figures, Piece, PlatformAPI, Published, bad_answer, count, seconds

# Chunks must be multiples of 256 KiB (the resumable protocol), but the last.
CHUNK = 32 * 256 * 1024
TITLE_MAX = 100
DESCRIPTION_MAX = 5000
SPORTS = "17"


def token_expired(exc: APIError, answer: dict) -> bool:
    return exc.status == 401


def _reasons(answer: dict) -> list[str]:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    return [str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)]


def explain(exc: APIError, answer: dict) -> tuple[str, str, str, bool | None]:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    message, reasons = str(error.get("message") or f"answered {exc.status}")[:200], _reasons(answer)
    if "quotaExceeded" in reasons or "uploadLimitExceeded" in reasons:
        return ("the YouTube quota or the channel's daily upload limit was reached", "", "the delivery is tried "
                "again later by itself (quotas reset at midnight Pacific time)", True)
    if "invalidTitle" in reasons:
        return f"YouTube refused the title ({message})", "post.caption", "change the post's first line", False
    if "invalidDescription" in reasons:
        return f"YouTube refused the description ({message})", "post.caption", "change the caption", False
    if "forbidden" in reasons or "insufficientPermissions" in reasons:
        return ("the channel has not given the permission this needs (youtube.upload)", "",
                "a desk admin connects the channel again and allows uploads", False)
    return message, "", "", None


def _api(base_url: str, account) -> PlatformAPI:
    return PlatformAPI("youtube", base_url, account, explain=explain, token_expired=token_expired)


def clean(text: str) -> str:
    return re.sub(r"[<>]", "", text)


def title_of(piece: Piece) -> str:
    """The caption's first line, cut at a word to fit, with #Shorts when it fits."""
    first = clean(next((line for line in piece.text.splitlines() if line.strip()), piece.title)).strip()
    if len(first) > TITLE_MAX:
        first = first[:TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"
    return first if len(first) + 8 > TITLE_MAX or "#shorts" in first.lower() else f"{first} #Shorts"


def _resource(response) -> Published:
    try:
        video = response.json()
        video_id = str(video["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_answer("youtube", "the uploaded video", exc) from exc
    return Published(video_id, f"https://www.youtube.com/shorts/{video_id}")


def _offset(api: PlatformAPI, session: str, size: int):
    """How far the session got: a Published when complete, else the next byte to send; None when it expired."""
    try:
        response = api.request("PUT", session, data=b"", headers={"Content-Range": f"bytes */{size}"})
    except DistributionError as exc:
        if getattr(exc, "status", None) in (404, 410):
            return None
        raise
    if response.status_code in (200, 201):
        return _resource(response)
    match = re.fullmatch(r"bytes=0-(\d+)", response.headers.get("Range", ""))
    return int(match.group(1)) + 1 if match else 0


def publish(base_url: str, account, piece: Piece, ledger, *, made_for_kids: bool = False) -> Published:
    if piece.kind != "reel" or piece.video is None:
        raise DistributionError("YouTube takes videos only", layer="L7", provider="youtube", retryable=False,
                                hint="send carousels and stills to other destinations in the preset")
    api = _api(base_url, account)
    video = piece.video.read_bytes()
    record = ledger.read()
    steps = dict(record.get("steps") or {})
    start = 0
    session = steps.get("session")
    if session:
        where = _offset(api, session, len(video))
        if isinstance(where, Published):
            ledger.write(state="published", post_id=where.post_id, url=where.url,
                         note="the upload had finished before its answer was lost")
            return where
        if where is None:
            session = None
        else:
            start = where
    if not session:
        description = clean(piece.text)[:DESCRIPTION_MAX]
        response = api.request(
            "POST", "/upload/youtube/v3/videos", params={"uploadType": "resumable", "part": "snippet,status"},
            json={"snippet": {"title": title_of(piece), "description": description, "categoryId": SPORTS},
                  "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": made_for_kids}},
            headers={"X-Upload-Content-Length": str(len(video)), "X-Upload-Content-Type": "video/mp4"})
        session = response.headers.get("Location", "")
        if not session.startswith(("http://", "https://")):
            raise bad_answer("youtube", "the upload session", ValueError("no Location"))
        steps["session"] = session
        ledger.write(state="preparing", steps=steps, note="upload session started")
    while start < len(video):
        last = min(start + CHUNK, len(video)) - 1
        if last == len(video) - 1:
            ledger.write(state="publishing", steps=steps, note="last bytes sent")
        response = api.request("PUT", session, upload=True, data=video[start:last + 1],
                               headers={"Content-Type": "video/mp4",
                                        "Content-Range": f"bytes {start}-{last}/{len(video)}"})
        if response.status_code in (200, 201):
            done = _resource(response)
            ledger.write(state="published", post_id=done.post_id, url=done.url, note="uploaded")
            return done
        match = re.fullmatch(r"bytes=0-(\d+)", response.headers.get("Range", ""))
        start = int(match.group(1)) + 1 if match else start
    raise bad_answer("youtube", "the last chunk", ValueError("no video resource"))


def insights(base_url: str, account, post_id: str, kind: str, *, analytics_url: str = "") -> Figures:
    """Views, likes and comments from `videos.list?part=statistics` (counts as strings); the average view
    duration and shares from the Analytics API's report for the video when its address is set."""
    api = _api(base_url, account)
    answer = api.json("GET", "/youtube/v3/videos", params={"part": "statistics", "id": post_id})
    try:
        stats = next(i for i in answer["items"] if isinstance(i, dict) and i.get("id") == post_id)["statistics"]
        figures = Figures(views=count(stats.get("viewCount", 0)), likes=count(stats.get("likeCount", 0)),
                          comments=count(stats.get("commentCount", 0)))
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise bad_answer("youtube", "a video's statistics", exc) from exc
    if analytics_url:
        report = PlatformAPI("youtube", analytics_url, account, explain=explain, token_expired=token_expired)
        table = report.json("GET", "/v2/reports", params={
            "ids": "channel==MINE", "startDate": "2020-01-01", "endDate": "2100-01-01",
            "metrics": "views,averageViewDuration,shares", "filters": f"video=={post_id}"})
        try:
            names = [c["name"] for c in table["columnHeaders"]]
            rows = table.get("rows") or []
            if rows:
                row = dict(zip(names, rows[0], strict=True))
                figures.shares = count(row.get("shares", 0))
                figures.watch_time_s = round(seconds(row.get("averageViewDuration", 0)) * figures.views, 3)
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_answer("youtube", "a video's analytics report", exc) from exc
    return figures
