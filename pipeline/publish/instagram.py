"""Instagram: Reels, carousels and images on a professional account, by the Instagram API with Instagram Login.

From Meta's reference (developers.facebook.com/docs/instagram-platform/content-publishing, IG User Media,
IG Container, IG User Media Publish, IG User Content Publishing Limit, IG Media Insights):
- a container is made from the file's public link (`POST /<IG_ID>/media`: `media_type=REELS` + `video_url`, or
  `image_url`; carousel items with `is_carousel_item=true`, then a `CAROUSEL` container naming `children`);
- Instagram fetches the link itself ("we cURL media"), so it must be reachable from the internet;
- `GET /<CONTAINER_ID>?fields=status_code` is IN_PROGRESS, then FINISHED (or ERROR, EXPIRED after 24 h,
  PUBLISHED once published); `POST /<IG_ID>/media_publish` with `creation_id` makes it public;
- `GET /<IG_ID>/content_publishing_limit?fields=config,quota_usage`: the API-published posts in the last 24 h
  and the quota (100);
- caption at most 2,200 characters, 30 hashtags; a carousel 2 to 10 items;
- errors `{"error": {"message", "type", "code", "error_subcode"}}`: code 190 an expired or revoked token; 4,
  17, 32, 613 rate limits; 9 with subcode 2207042 the day's publishing limit reached.
"""
from __future__ import annotations

from pipeline.errors import APIError, DistributionError
from pipeline.publish import Figures, Piece, PlatformAPI, Published, bad_answer, count, seconds

CAPTION_MAX = 2200
HASHTAGS_MAX = 30
CAROUSEL_MAX = 10
RATE_LIMIT_CODES = {4, 17, 32, 613}


def token_expired(exc: APIError, answer: dict) -> bool:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    return error.get("code") == 190 or exc.status == 401


def explain(exc: APIError, answer: dict) -> tuple[str, str, str, bool | None]:
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    code, sub = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"answered {exc.status}")[:200]
    if code in RATE_LIMIT_CODES:
        return (f"Instagram's rate limit for the app was reached ({message})", "", "the delivery is tried again "
                "later by itself, when the limit has passed", True)
    if code == 9 and sub == 2207042:
        return ("the account reached Instagram's limit of posts published through the API in 24 hours", "",
                "post it later: the delivery is tried again by itself", True)
    if code == 10 or code == 200:
        return (f"the account has not given the permission this needs ({message})", "",
                "a desk admin connects the account again and allows publishing (instagram_business_content_publish)",
                False)
    if code == 100 and "caption" in message.lower():
        return (f"the caption was refused ({message})", "post.caption", "shorten the caption in the Post copy "
                "panel", False)
    if code in (9004, 2207052) or sub in (2207052, 2207026, 2207004):
        return (f"Instagram could not fetch or read the file ({message})", "", "check PUBLIC_URL is reachable from "
                "the internet and the file is an H.264/AAC MP4 or a JPEG", False)
    return message, "", "", None


def _api(base_url: str, account) -> PlatformAPI:
    return PlatformAPI("instagram", base_url, account, explain=explain, token_expired=token_expired, auth="query")


def check_limits(api: PlatformAPI, piece: Piece) -> None:
    """The documented limits, checked before anything is sent, in words."""
    if len(piece.text) > CAPTION_MAX:
        raise DistributionError(f"the caption has {len(piece.text)} characters; Instagram takes {CAPTION_MAX}",
                                layer="L7", provider="instagram", field="post.caption", retryable=False,
                                hint="shorten the caption in the Post copy panel")
    tags = sum(1 for word in piece.text.split() if word.startswith("#"))
    if tags > HASHTAGS_MAX:
        raise DistributionError(f"the caption has {tags} hashtags; Instagram takes {HASHTAGS_MAX}", layer="L7",
                                provider="instagram", field="post.hashtags", retryable=False,
                                hint="remove some hashtags in the Post copy panel")
    if piece.kind == "carousel" and not 2 <= len(piece.images) <= CAROUSEL_MAX:
        raise DistributionError(f"the carousel has {len(piece.images)} slides; Instagram takes 2 to "
                                f"{CAROUSEL_MAX}", layer="L7", provider="instagram", retryable=False,
                                hint="change the number of slides in the preset")
    answer = api.json("GET", f"{api.account.external_id}/content_publishing_limit",
                      params={"fields": "config,quota_usage"})
    try:
        usage = answer["data"][0]
        used, quota = count(usage["quota_usage"]), count(usage["config"]["quota_total"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad_answer("instagram", "its publishing limit", exc) from exc
    if used >= quota:
        raise DistributionError(f"{api.account.label} has published {used} posts through the API in the last 24 "
                                f"hours, Instagram's limit ({quota})", layer="L7", provider="instagram",
                                retryable=True, hint="it is posted when the limit allows: the delivery is tried "
                                                     "again later by itself")


def _container(api: PlatformAPI, **params) -> str:
    answer = api.json("POST", f"{api.account.external_id}/media", data=params)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str | int) or not str(answer["id"]).strip():
        raise bad_answer("instagram", "a container", ValueError("no id"))
    return str(answer["id"])


def _status(api: PlatformAPI, container: str) -> str:
    answer = api.json("GET", container, params={"fields": "status_code,status"})
    status = answer.get("status_code") if isinstance(answer, dict) else None
    if status not in ("IN_PROGRESS", "FINISHED", "ERROR", "EXPIRED", "PUBLISHED"):
        raise bad_answer("instagram", "a container's status", ValueError(repr(status)[:40]))
    if status == "ERROR":
        raise DistributionError(f"Instagram could not process the file ({str(answer.get('status'))[:120]})",
                                layer="L7", provider="instagram", retryable=False,
                                hint="check the file is reachable at PUBLIC_URL and is an H.264/AAC MP4 or a JPEG")
    return status


def _ready(api: PlatformAPI, *containers: str) -> None:
    """Wait for every container at once (a carousel's slides are processed side by side): one poll of each
    still in progress per pause."""
    waiting = list(containers)

    def check():
        waiting[:] = [c for c in waiting if _status(api, c) == "IN_PROGRESS"]
        return None if waiting else "ready"

    api.wait("the file's processing", check)


def _permalink(api: PlatformAPI, media_id: str) -> str:
    answer = api.json("GET", media_id, params={"fields": "permalink"})
    link = answer.get("permalink") if isinstance(answer, dict) else None
    return link if isinstance(link, str) and link.startswith("https://") else ""


def _find_published(api: PlatformAPI, piece: Piece) -> Published | None:
    """After a lost answer: the account's newest posts, the one with this piece's caption."""
    answer = api.json("GET", f"{api.account.external_id}/media",
                      params={"fields": "id,caption,permalink,timestamp", "limit": 25})
    for media in answer.get("data") or [] if isinstance(answer, dict) else []:
        if isinstance(media, dict) and media.get("caption") == piece.text and media.get("id"):
            link = media.get("permalink")
            return Published(str(media["id"]), link if isinstance(link, str) else "",
                             note="found on the account after the answer to publishing was lost")
    return None


def publish(base_url: str, account, piece: Piece, ledger) -> Published:
    api = _api(base_url, account)
    record = ledger.read()
    steps = dict(record.get("steps") or {})
    container = steps.get("container")
    if record.get("state") == "publishing" and container:
        status = _status(api, container)
        if status == "PUBLISHED":
            found = _find_published(api, piece)
            if found is None:
                found = Published("", "", note="Instagram says the container was published; the post was not "
                                               "found among the account's newest")
            ledger.write(state="published", post_id=found.post_id, url=found.url, note=found.note)
            return found
        if status == "EXPIRED":
            container = None
    elif container and _status(api, container) == "EXPIRED":
        container = None
    check_limits(api, piece)
    if not container:
        if piece.kind == "reel":
            container = _container(api, media_type="REELS", video_url=piece.video_url, caption=piece.text,
                                   share_to_feed="true")
        elif piece.kind == "carousel":
            children = []
            for image in piece.images[:CAROUSEL_MAX]:
                children.append(_container(api, image_url=image.url, is_carousel_item="true", alt_text=image.alt))
                ledger.write(state="preparing", steps={**steps, "children": children})
            _ready(api, *children)
            container = _container(api, media_type="CAROUSEL", children=",".join(children), caption=piece.text)
        else:
            image = piece.images[0]
            container = _container(api, image_url=image.url, caption=piece.text, alt_text=image.alt)
        steps["container"] = container
        ledger.write(state="preparing", steps=steps, note=f"container {container} made")
    _ready(api, container)
    ledger.write(state="publishing", steps=steps, note="media_publish sent")
    answer = api.json("POST", f"{account.external_id}/media_publish", data={"creation_id": container})
    if not isinstance(answer, dict) or not answer.get("id"):
        raise bad_answer("instagram", "the published post", ValueError("no id"))
    media_id = str(answer["id"])
    url = _permalink(api, media_id)
    ledger.write(state="published", post_id=media_id, url=url, note="published")
    return Published(media_id, url)


METRICS = {"reel": "views,reach,likes,comments,shares,saved,ig_reels_avg_watch_time",
           "other": "views,reach,likes,comments,shares,saved"}


def insights(base_url: str, account, post_id: str, kind: str) -> Figures:
    """IG Media Insights (`GET /<IG_MEDIA_ID>/insights?metric=...`): lifetime values; the reels' average watch
    time is in milliseconds."""
    api = _api(base_url, account)
    answer = api.json("GET", f"{post_id}/insights", params={"metric": METRICS["reel" if kind == "reel" else "other"]})
    try:
        values = {item["name"]: item["values"][0]["value"] for item in answer["data"]}
        figures = Figures(views=count(values.get("views", 0)), reach=count(values.get("reach", 0)),
                          likes=count(values.get("likes", 0)), comments=count(values.get("comments", 0)),
                          shares=count(values.get("shares", 0)), saves=count(values.get("saved", 0)))
        average_ms = seconds(values.get("ig_reels_avg_watch_time", 0))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad_answer("instagram", "a post's insights", exc) from exc
    figures.watch_time_s = round(average_ms / 1000 * figures.views, 3)
    return figures
