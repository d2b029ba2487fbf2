"""TikTok: videos and photo posts by the Content Posting API (Direct Post).

From TikTok's reference (developers.tiktok.com/doc/content-posting-api-reference-direct-post, -media-transfer-
guide, -get-video-status, -reference-photo-post, and the Display API's /v2/video/query/):
- `POST /v2/post/publish/creator_info/query/` first: the privacy levels the creator may pick and the longest
  video they may post;
- `POST /v2/post/publish/video/init/` with `source_info.source=FILE_UPLOAD`, `video_size`, `chunk_size` and
  `total_chunk_count` (video_size // chunk_size; chunks 5 to 64 MB, the last may carry the rest up to 128 MB; a
  file under 5 MB goes whole) answers `publish_id` and `upload_url`; each chunk is a `PUT` with `Content-Range:
  bytes first-last/total`, in order (206 until the last, then 201);
- photos: `POST /v2/post/publish/content/init/` with `media_type=PHOTO`, `post_mode=DIRECT_POST` and
  `source_info.source=PULL_FROM_URL` (`photo_images`, from a domain verified with TikTok);
- `POST /v2/post/publish/status/fetch/` with `publish_id`: PROCESSING_UPLOAD, PROCESSING_DOWNLOAD,
  PUBLISH_COMPLETE (with `publicaly_available_post_id`, the API's spelling) or FAILED (`fail_reason`);
- every answer has `error: {code, message, log_id}`, code "ok" on success; `access_token_invalid` (401),
  `rate_limit_exceeded` (429), `spam_risk_too_many_posts`, `privacy_level_option_mismatch`,
  `url_ownership_unverified`, `invalid_params`.
"""
from __future__ import annotations

from pipeline.errors import APIError, DistributionError
from pipeline.publish import Figures, Piece, PlatformAPI, Published, bad_answer, count

MB = 1024 * 1024
CHUNK = 10 * MB
TITLE_MAX = 2200
PHOTOS_MAX = 35


def token_expired(exc: APIError, answer: dict) -> bool:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    return error.get("code") in ("access_token_invalid", "invalid_token") or exc.status == 401


def explain(exc: APIError, answer: dict) -> tuple[str, str, str, bool | None]:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    code, message = str(error.get("code") or ""), str(error.get("message") or f"answered {exc.status}")[:200]
    if code == "rate_limit_exceeded" or exc.status == 429:
        return "TikTok's rate limit was reached", "", "the delivery is tried again later by itself", True
    if code == "spam_risk_too_many_posts":
        return ("the account reached TikTok's daily limit of posts from apps", "", "post it tomorrow: the "
                "delivery is tried again later by itself", True)
    if code == "scope_not_authorized":
        return ("the account has not given the permission this needs (video.publish)", "",
                "a desk admin connects the account again and allows posting", False)
    if code == "url_ownership_unverified":
        return ("TikTok takes photos only from a domain verified for the app", "", "verify the domain of "
                "PUBLIC_URL (or the object store) in TikTok's developer portal", False)
    if code == "privacy_level_option_mismatch":
        return ("TikTok refused the privacy level for this creator", "", "the creator's settings changed; "
                "deliver again", False)
    return (f"{message} ({code})" if code else message), "", "", None


def _api(base_url: str, account) -> PlatformAPI:
    return PlatformAPI("tiktok", base_url, account, explain=explain, token_expired=token_expired)


def _data(api: PlatformAPI, path: str, body: dict) -> dict:
    answer = api.json("POST", path, json=body)
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict) or error.get("code") != "ok" or not isinstance(answer.get("data"), dict):
        raise bad_answer("tiktok", path.strip("/").split("/")[-2], ValueError(repr(error)[:80]))
    return answer["data"]


def chunks(size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) as the media transfer guide asks: whole under 5 MB, else CHUNK-sized
    chunks with the rest in the last."""
    if size < 5 * MB:
        return size, 1
    chunk = min(CHUNK, size)
    return chunk, max(1, size // chunk)


def _privacy(api: PlatformAPI) -> str:
    creator = _data(api, "/v2/post/publish/creator_info/query/", {})
    options = creator.get("privacy_level_options")
    if not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options):
        raise bad_answer("tiktok", "the creator's privacy levels", ValueError(repr(options)[:60]))
    # Public when the creator may post publicly; an unaudited app is offered SELF_ONLY only.
    return "PUBLIC_TO_EVERYONE" if "PUBLIC_TO_EVERYONE" in options else options[0]


def _status(api: PlatformAPI, publish_id: str) -> dict:
    data = _data(api, "/v2/post/publish/status/fetch/", {"publish_id": publish_id})
    if data.get("status") not in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX",
                                  "PUBLISH_COMPLETE", "FAILED"):
        raise bad_answer("tiktok", "a post's status", ValueError(repr(data.get("status"))[:40]))
    if data["status"] == "FAILED":
        raise DistributionError(f"TikTok could not post it ({str(data.get('fail_reason'))[:80]})", layer="L7",
                                provider="tiktok", retryable=False,
                                hint="check the file is an H.264/AAC MP4 within the creator's longest length")
    return data


def _upload(api: PlatformAPI, url: str, video: bytes, start_chunk: int, ledger, steps: dict) -> None:
    chunk, total = chunks(len(video))
    for index in range(start_chunk, total):
        first = index * chunk
        last = len(video) - 1 if index == total - 1 else first + chunk - 1
        if index == total - 1:
            # The last chunk makes the post: from here a lost answer is found by the status, not sent again.
            ledger.write(state="publishing", steps=steps, note="last chunk sent")
        # The upload address carries its own upload token: no Authorization header goes to it.
        api.uploads.request("PUT", url, data=video[first:last + 1], headers={
            "Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{len(video)}"})
        steps["chunks_sent"] = index + 1
        if index < total - 1:
            ledger.write(state="preparing", steps=steps)


def _done(api: PlatformAPI, publish_id: str, ledger) -> Published:
    def check():
        data = _status(api, publish_id)
        if data["status"] != "PUBLISH_COMPLETE":
            return None
        ids = data.get("publicaly_available_post_id") or []
        return str(ids[0]) if isinstance(ids, list) and ids else ""

    post_id = api.wait("TikTok's processing and moderation", check)
    handle = api.account.handle.lstrip("@")
    url = f"https://www.tiktok.com/@{handle}/video/{post_id}" if post_id else ""
    note = "" if post_id else "posted; TikTok gives no public id while the post is private"
    ledger.write(state="published", post_id=post_id or publish_id, url=url, note=note or "published")
    return Published(post_id or publish_id, url, note)


def publish(base_url: str, account, piece: Piece, ledger) -> Published:
    api = _api(base_url, account)
    record = ledger.read()
    steps = dict(record.get("steps") or {})
    publish_id = steps.get("publish_id")
    if publish_id and record.get("state") == "publishing":
        return _done(api, publish_id, ledger)
    if record.get("state") == "publishing" and not publish_id:
        # A photo post's init was sent and its answer lost: TikTok gives no way to look it up, so it is not
        # sent again blindly.
        raise DistributionError(f"{account.label}: the answer to posting was lost and TikTok has no way to look "
                                "the post up", layer="L7", provider="tiktok", retryable=False,
                                hint="look at the account: if it is not there, deliver again")
    if len(piece.text) > TITLE_MAX:
        raise DistributionError(f"the caption has {len(piece.text)} characters; TikTok takes {TITLE_MAX}",
                                layer="L7", provider="tiktok", field="post.caption", retryable=False,
                                hint="shorten the caption in the Post copy panel")
    privacy = _privacy(api)
    if piece.kind == "reel":
        video = piece.video.read_bytes()
        if publish_id and steps.get("upload_url"):
            data = _status(api, publish_id)
            if data["status"] == "PUBLISH_COMPLETE":
                return _done(api, publish_id, ledger)
            sent = min(int(steps.get("chunks_sent") or 0), chunks(len(video))[1] - 1)
            _upload(api, steps["upload_url"], video, sent, ledger, steps)
            return _done(api, publish_id, ledger)
        chunk, total = chunks(len(video))
        data = _data(api, "/v2/post/publish/video/init/", {
            "post_info": {"title": piece.text, "privacy_level": privacy, "disable_comment": False,
                          "video_cover_timestamp_ms": 0},
            "source_info": {"source": "FILE_UPLOAD", "video_size": len(video), "chunk_size": chunk,
                            "total_chunk_count": total}})
        if not isinstance(data.get("publish_id"), str) or not str(data.get("upload_url", "")).startswith("http"):
            raise bad_answer("tiktok", "the upload's start", ValueError("no publish_id or upload_url"))
        # Nothing is public until the last chunk is in: an init whose answer is lost leaves an unused upload.
        steps.update(publish_id=data["publish_id"], upload_url=data["upload_url"], chunks_sent=0)
        ledger.write(state="preparing", steps=steps, note=f"upload {data['publish_id']} started")
        _upload(api, data["upload_url"], video, 0, ledger, steps)
        return _done(api, data["publish_id"], ledger)
    images = piece.images[:PHOTOS_MAX]
    ledger.write(state="publishing", steps=steps, note="photo post sent")
    data = _data(api, "/v2/post/publish/content/init/", {
        "post_info": {"title": piece.title[:90], "description": piece.text, "privacy_level": privacy},
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": [i.url for i in images]},
        "post_mode": "DIRECT_POST", "media_type": "PHOTO"})
    if not isinstance(data.get("publish_id"), str):
        raise bad_answer("tiktok", "the photo post", ValueError("no publish_id"))
    steps["publish_id"] = data["publish_id"]
    ledger.write(state="publishing", steps=steps, note=f"photo post {data['publish_id']}")
    return _done(api, data["publish_id"], ledger)


def insights(base_url: str, account, post_id: str, kind: str) -> Figures:
    """`POST /v2/video/query/?fields=...` with the post's id."""
    api = _api(base_url, account)
    data = _data(api, "/v2/video/query/?fields=id,view_count,like_count,comment_count,share_count",
                 {"filters": {"video_ids": [post_id]}})
    try:
        video = next(v for v in data["videos"] if isinstance(v, dict) and str(v.get("id")) == post_id)
        return Figures(views=count(video.get("view_count", 0)), likes=count(video.get("like_count", 0)),
                       comments=count(video.get("comment_count", 0)), shares=count(video.get("share_count", 0)))
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise bad_answer("tiktok", "a post's figures", exc) from exc
