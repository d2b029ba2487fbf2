"""X: the chunked media upload (INIT, APPEND, FINALIZE, STATUS), then the post.

From X's reference (docs.x.com/x-api/media/quickstart/media-upload-chunked, POST /2/media/upload, POST
/2/media/metadata, POST /2/tweets, GET /2/users/:id/tweets, GET /2/tweets):
- `POST /2/media/upload` (multipart) `command=INIT` with `media_type`, `total_bytes`, `media_category`
  (amplify_video, tweet_image) answers `data.id` and `data.media_key`; `command=APPEND` with `media_id`,
  `segment_index` and the chunk as `media` (at most 5 MB); `command=FINALIZE` answers `processing_info`
  ({state: pending | in_progress | succeeded | failed, check_after_secs}) when it must be waited for, which
  `GET /2/media/upload?command=STATUS&media_id=` follows;
- `POST /2/media/metadata` sets an image's alt text (at most 1,000 characters);
- `POST /2/tweets` with `text` and `media.media_ids` (up to 4 images or 1 video) answers 201 `data.id`;
- a user's posts (`GET /2/users/:id/tweets` with `expansions=attachments.media_keys`) show what was posted;
- `public_metrics` (impression_count, like_count, retweet_count, reply_count, quote_count, bookmark_count);
- 429 carries `x-rate-limit-reset` (epoch seconds); errors are problem documents {title, detail, type, status}.
"""
from __future__ import annotations

from datetime import UTC, datetime

from pipeline.errors import APIError, DistributionError
from pipeline.publish import Figures, Piece, PlatformAPI, Published, bad_answer, count

CHUNK = 4 * 1024 * 1024
IMAGES_MAX = 4
ALT_MAX = 1000
TEXT_MAX = 280


def token_expired(exc: APIError, answer: dict) -> bool:
    return exc.status == 401


def explain(exc: APIError, answer: dict) -> tuple[str, str, str, bool | None]:
    detail = str(answer.get("detail") or answer.get("title") or f"answered {exc.status}")[:200]
    if exc.status == 429:
        reset = (exc.headers or {}).get("x-rate-limit-reset", "")
        when = ""
        if reset.isdigit():
            when = f" until {datetime.fromtimestamp(int(reset), UTC):%H:%M} UTC"
        return f"X's rate limit was reached{when}", "", "the delivery is tried again later by itself", True
    if "duplicate" in detail.lower():
        return ("X refused a post with the same text as an earlier one", "post.caption",
                "change the caption in the Post copy panel", False)
    if exc.status == 403:
        return (f"X refused the post ({detail})", "", "check the account may post media (tweet.write, "
                "media.write), or connect it again", False)
    return detail, "", "", None


def _api(base_url: str, account) -> PlatformAPI:
    return PlatformAPI("x", base_url, account, explain=explain, token_expired=token_expired)


def _form(**fields) -> dict:
    return {name: (None, str(value)) for name, value in fields.items()}


def _processed(api: PlatformAPI, media_id: str, info) -> None:
    def check():
        nonlocal info
        state = info.get("state") if isinstance(info, dict) else "succeeded"
        if state == "succeeded":
            return "ok"
        if state == "failed":
            error = info.get("error") if isinstance(info.get("error"), dict) else {}
            raise DistributionError(f"X could not process the file ({str(error.get('message'))[:100]})",
                                    layer="L7", provider="x", retryable=False,
                                    hint="check the file is an H.264/AAC MP4 or a JPEG within X's limits")
        if state not in ("pending", "in_progress"):
            raise bad_answer("x", "a media's processing", ValueError(repr(state)[:40]))
        answer = api.json("GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id})
        info = (answer.get("data") or {}).get("processing_info") if isinstance(answer, dict) else None
        return None

    api.wait("the media's processing", check)


def _upload(api: PlatformAPI, data: bytes, media_type: str, category: str) -> tuple[str, str]:
    answer = api.json("POST", "/2/media/upload", files=_form(command="INIT", media_type=media_type,
                                                              total_bytes=len(data), media_category=category))
    try:
        media_id, media_key = str(answer["data"]["id"]), str(answer["data"]["media_key"])
    except (KeyError, TypeError) as exc:
        raise bad_answer("x", "the upload's start", exc) from exc
    for index, start in enumerate(range(0, len(data), CHUNK)):
        api.request("POST", "/2/media/upload", files={
            **_form(command="APPEND", media_id=media_id, segment_index=index),
            "media": ("chunk", data[start:start + CHUNK], "application/octet-stream")})
    answer = api.json("POST", "/2/media/upload", files=_form(command="FINALIZE", media_id=media_id))
    info = (answer.get("data") or {}).get("processing_info") if isinstance(answer, dict) else None
    _processed(api, media_id, info)
    return media_id, media_key


def _find_post(api: PlatformAPI, media_keys: list[str]) -> Published | None:
    answer = api.json("GET", f"/2/users/{api.account.external_id}/tweets", params={
        "max_results": 10, "tweet.fields": "attachments", "expansions": "attachments.media_keys"})
    for post in (answer.get("data") or []) if isinstance(answer, dict) else []:
        keys = ((post.get("attachments") or {}).get("media_keys") or []) if isinstance(post, dict) else []
        if isinstance(keys, list) and set(media_keys) & set(map(str, keys)):
            return Published(str(post["id"]), _link(api, str(post["id"])),
                             note="found on the account after the answer to posting was lost")
    return None


def _link(api: PlatformAPI, post_id: str) -> str:
    return f"https://x.com/{api.account.handle.lstrip('@')}/status/{post_id}"


def publish(base_url: str, account, piece: Piece, ledger) -> Published:
    api = _api(base_url, account)
    record = ledger.read()
    steps = dict(record.get("steps") or {})
    if record.get("state") == "publishing" and steps.get("media_keys"):
        found = _find_post(api, steps["media_keys"])
        if found is not None:
            ledger.write(state="published", post_id=found.post_id, url=found.url, note=found.note)
            return found
    if len(piece.text) > TEXT_MAX:
        raise DistributionError(f"the post has {len(piece.text)} characters; X takes {TEXT_MAX}", layer="L7",
                                provider="x", field="post.caption", retryable=False,
                                hint="shorten the caption's first paragraph in the Post copy panel")
    if not steps.get("media_ids"):
        ids, keys = [], []
        if piece.kind == "reel":
            media_id, key = _upload(api, piece.video.read_bytes(), "video/mp4", "amplify_video")
            ids, keys = [media_id], [key]
        else:
            for image in piece.images[:IMAGES_MAX]:
                media_id, key = _upload(api, image.path.read_bytes(), "image/jpeg" if image.path.suffix in (
                    ".jpg", ".jpeg") else "image/png", "tweet_image")
                if image.alt:
                    api.request("POST", "/2/media/metadata", json={
                        "id": media_id, "metadata": {"alt_text": {"text": image.alt[:ALT_MAX]}}})
                ids.append(media_id)
                keys.append(key)
        steps.update(media_ids=ids, media_keys=keys)
        ledger.write(state="preparing", steps=steps, note=f"{len(ids)} media uploaded")
    ledger.write(state="publishing", steps=steps, note="post sent")
    answer = api.json("POST", "/2/tweets", json={"text": piece.text, "media": {"media_ids": steps["media_ids"]}})
    try:
        post_id = str(answer["data"]["id"])
    except (KeyError, TypeError) as exc:
        raise bad_answer("x", "the post", exc) from exc
    note = "" if piece.kind == "reel" or len(piece.images) <= IMAGES_MAX else (
        f"X takes {IMAGES_MAX} images: the first {IMAGES_MAX} of {len(piece.images)} slides were posted")
    url = _link(api, post_id)
    ledger.write(state="published", post_id=post_id, url=url, note=note or "published")
    return Published(post_id, url, note)


def insights(base_url: str, account, post_id: str, kind: str) -> Figures:
    api = _api(base_url, account)
    answer = api.json("GET", "/2/tweets", params={"ids": post_id, "tweet.fields": "public_metrics"})
    try:
        post = next(p for p in answer["data"] if isinstance(p, dict) and str(p.get("id")) == post_id)
        metrics = post["public_metrics"]
        return Figures(views=count(metrics.get("impression_count", 0)), likes=count(metrics.get("like_count", 0)),
                       comments=count(metrics.get("reply_count", 0)),
                       shares=count(metrics.get("retweet_count", 0)) + count(metrics.get("quote_count", 0)),
                       saves=count(metrics.get("bookmark_count", 0)))
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise bad_answer("x", "a post's figures", exc) from exc
