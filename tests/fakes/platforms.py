"""Fakes on loopback of the four platforms L7 publishes to, OAuth included, built from their references and
answering in the shapes those document (faults from tests/fakes/upstream.py's queue besides):

- Instagram: developers.facebook.com/docs/instagram-platform/content-publishing (IG User Media, IG Container's
  `status_code` IN_PROGRESS / FINISHED / ERROR / EXPIRED / PUBLISHED, IG User Media Publish, IG User Content
  Publishing Limit), IG Media Insights, and Business Login for Instagram (the code at
  api.instagram.com/oauth/access_token, `ig_exchange_token`, `ig_refresh_token`); errors as
  `{"error": {"message", "type": "OAuthException", "code", "error_subcode", "fbtrace_id"}}`.
- TikTok: developers.tiktok.com/doc/content-posting-api-reference-direct-post, -media-transfer-guide (chunk
  rules, `Content-Range`, 206 then 201), -get-video-status, photo posts, /v2/video/query/, Login Kit
  (/v2/oauth/token/ with `client_key`, PKCE, /v2/oauth/revoke/, /v2/user/info/); `error: {code, message, log_id}`.
- YouTube: developers.google.com/youtube/v3/guides/using_resumable_upload_protocol (Location, 308 with Range,
  `bytes */total` status checks), videos.list statistics (counts as strings), YouTube Analytics reports.query,
  Google's OAuth 2.0 token endpoint (PKCE, refresh) and revoke.
- X: docs.x.com/x-api/media/quickstart/media-upload-chunked (INIT/APPEND/FINALIZE/STATUS with
  `processing_info`), POST /2/media/metadata, POST /2/tweets, GET /2/users/:id/tweets, GET /2/tweets
  public_metrics, OAuth 2.0 with PKCE (/2/oauth2/token with HTTP Basic, /2/oauth2/revoke, /2/users/me); 429 with
  `x-rate-limit-reset`.

Each fake keeps what was posted (`posts`), so a test counts posts, not requests.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from tests.fakes.upstream import Seen, Upstream, multipart_fields, ok, start

_ids = itertools.count(17_900_000_000_000_000)


def next_id() -> str:
    return str(next(_ids))


def form(seen: Seen) -> dict:
    if seen.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
    return {k: v[0] for k, v in seen.query.items()}


def as_json(seen: Seen) -> dict:
    try:
        return json.loads(seen.body or b"{}")
    except ValueError:
        return {}


@dataclass
class OAuthServer:
    """The part every platform shares: codes issued for a client and a PKCE challenge, tokens that end."""

    client_id: str
    client_secret: str
    access_ttl: int = 3600
    codes: dict = field(default_factory=dict)
    access: dict = field(default_factory=dict)     # access token -> (account id, expires at monotonic)
    refresh: dict = field(default_factory=dict)    # refresh token -> account id
    revoked: list = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue_code(self, account_id: str, challenge: str = "", redirect_uri: str = "") -> str:
        code = f"code-{next(self.counter)}"
        self.codes[code] = (account_id, challenge, redirect_uri)
        return code

    def token_for(self, account_id: str, ttl: int | None = None) -> dict:
        n = next(self.counter)
        access, refresh = f"at-{account_id}-{n}", f"rt-{account_id}-{n}"
        self.access[access] = (account_id, time.monotonic() + (self.access_ttl if ttl is None else ttl))
        self.refresh[refresh] = account_id
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.access_ttl,
                "token_type": "Bearer", "scope": "all"}

    def expire(self, access: str) -> None:
        account_id, _ = self.access[access]
        self.access[access] = (account_id, time.monotonic() - 1)

    def expire_all(self) -> None:
        for token in list(self.access):
            self.expire(token)

    def who(self, token: str) -> str | None:
        account_id, until = self.access.get(token, (None, 0))
        return account_id if account_id and until > time.monotonic() else None

    def grant(self, params: dict, *, turns_refresh: bool = True) -> str | None:
        """The account a token request is for: its refresh token's (used up when the platform turns them, as
        TikTok and X do; kept, as Google does), or its code's with the PKCE verifier; None when refused."""
        if params.get("grant_type") == "refresh_token":
            token = params.get("refresh_token", "")
            return self.refresh.pop(token, None) if turns_refresh else self.refresh.get(token)
        return self.redeem(params.get("code", ""), params.get("code_verifier", ""), params.get("redirect_uri", ""))

    def redeem(self, code: str, verifier: str, redirect_uri: str) -> str | None:
        account_id, challenge, wanted_uri = self.codes.pop(code, (None, "", ""))
        if account_id is None or (wanted_uri and redirect_uri != wanted_uri):
            return None
        if challenge:
            made = base64.urlsafe_b64encode(hashlib.sha256((verifier or "").encode()).digest()).rstrip(b"=").decode()
            if made != challenge:
                return None
        return account_id


def bearer(seen: Seen) -> str:
    return seen.headers.get("Authorization", "").removeprefix("Bearer ").strip()


# --- Instagram -----------------------------------------------------------------------------------------------


@dataclass
class Instagram:
    upstream: Upstream
    oauth: OAuthServer
    user_id: str = "17841400000000001"
    username: str = "gridironedge"
    processing_polls: int = 2
    quota_usage: int = 0
    containers: dict = field(default_factory=dict)
    posts: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _error(self, status: int, code: int, message: str, subcode: int | None = None):
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
        if subcode:
            error["error_subcode"] = subcode
        return ok({"error": error}, status=status)

    def _auth(self, seen: Seen):
        token = (seen.query.get("access_token") or [""])[0] or form(seen).get("access_token", "")
        return self.oauth.who(token)

    def route(self, seen: Seen):
        if self._auth(seen) is None:
            return self._error(400, 190, "Error validating access token: Session has expired.", 463)
        path = seen.path.removeprefix("/v24.0").strip("/")
        parts = path.split("/")
        with self.lock:
            if parts[-1] == "content_publishing_limit":
                return ok({"data": [{"config": {"quota_total": 100, "quota_duration": 86400},
                                     "quota_usage": self.quota_usage}]})
            if parts[-1] == "media" and seen.method == "POST":
                params = form(seen)
                if params.get("media_type") == "CAROUSEL":
                    children = params.get("children", "").split(",")
                    if not 2 <= len(children) <= 10 or any(c not in self.containers for c in children):
                        return self._error(400, 100, "Invalid parameter: children")
                elif not (params.get("video_url") or params.get("image_url")):
                    return self._error(400, 100, "Invalid parameter: image_url or video_url is required")
                if len(params.get("caption", "")) > 2200:
                    return self._error(400, 100, "Invalid parameter: caption is too long")
                container = next_id()
                self.containers[container] = {"params": params, "polls": self.processing_polls,
                                              "status": "IN_PROGRESS"}
                return ok({"id": container})
            if parts[-1] == "media" and seen.method == "GET":
                return ok({"data": [{"id": p["id"], "caption": p["caption"], "permalink": p["permalink"],
                                     "timestamp": p["timestamp"]} for p in reversed(self.posts)]})
            if parts[-1] == "media_publish":
                container = self.containers.get(form(seen).get("creation_id", ""))
                if container is None or container["status"] != "FINISHED":
                    return self._error(400, 9007, "Media ID is not available", 2207027)
                media_id = next_id()
                container["status"] = "PUBLISHED"
                self.quota_usage += 1
                self.posts.append({"id": media_id, "caption": container["params"].get("caption", ""),
                                   "params": container["params"], "timestamp": "2026-12-04T10:30:00+0000",
                                   "permalink": f"https://www.instagram.com/reel/{media_id[-8:]}/"})
                return ok({"id": media_id})
            if parts[-1] == "insights":
                media_id = parts[0]
                if not any(p["id"] == media_id for p in self.posts):
                    return self._error(400, 100, "Unsupported get request")
                base = len(self.upstream.requests_to(f"/v24.0/{media_id}/insights"))
                values = {"views": 1000 * base, "reach": 800 * base, "likes": 90 * base, "comments": 7 * base,
                          "shares": 12 * base, "saved": 30 * base, "ig_reels_avg_watch_time": 6400}
                wanted = (seen.query.get("metric") or [""])[0].split(",")
                return ok({"data": [{"name": name, "period": "lifetime", "values": [{"value": values[name]}],
                                     "title": name, "id": f"{media_id}/insights/{name}/lifetime"}
                                    for name in wanted if name in values]})
            if len(parts) == 1 and parts[0] in self.containers:
                container = self.containers[parts[0]]
                if container["status"] == "IN_PROGRESS":
                    container["polls"] -= 1
                    if container["polls"] < 0:
                        container["status"] = "FINISHED"
                return ok({"status_code": container["status"], "id": parts[0]})
            if len(parts) == 1 and any(p["id"] == parts[0] for p in self.posts):
                post = next(p for p in self.posts if p["id"] == parts[0])
                return ok({"permalink": post["permalink"], "id": post["id"]})
            if parts == ["me"]:
                return ok({"user_id": self.user_id, "username": self.username, "id": self.user_id})
        return self._error(400, 100, f"Unsupported request: {seen.method} {seen.path}")

    def token(self, seen: Seen):
        params = form(seen)
        if params.get("client_id") != self.oauth.client_id or params.get("client_secret") != self.oauth.client_secret:
            return ok({"error_type": "OAuthException", "code": 400, "error_message": "Invalid client"}, status=400)
        account = self.oauth.redeem(params.get("code", ""), "", params.get("redirect_uri", ""))
        if account is None:
            return ok({"error_type": "OAuthException", "code": 400,
                       "error_message": "This authorization code has been used"}, status=400)
        short = self.oauth.token_for(account, ttl=3600)
        return ok({"data": [{"access_token": short["access_token"], "user_id": account,
                             "permissions": "instagram_business_basic,instagram_business_content_publish"}]})

    def long_lived(self, seen: Seen):
        """ig_exchange_token and ig_refresh_token: a 60-day token for a valid one (no refresh token)."""
        params = form(seen)
        account = self.oauth.who(params.get("access_token", ""))
        if account is None:
            return self._error(400, 190, "Error validating access token")
        made = self.oauth.token_for(account, ttl=5183944)
        return ok({"access_token": made["access_token"], "token_type": "bearer", "expires_in": 5183944})


def serve_instagram(upstream: Upstream | None = None, **kwargs) -> Instagram:
    upstream = upstream or start()
    fake = Instagram(upstream, OAuthServer("ig-client", "ig-secret", access_ttl=5183944), **kwargs)
    upstream.route("POST", "/oauth/access_token", fake.token)
    upstream.route("GET", "/v24.0/access_token", fake.long_lived)
    upstream.route("GET", "/v24.0/refresh_access_token", fake.long_lived)
    for method in ("GET", "POST"):
        upstream.route(method, "/v24.0/", fake.route)
    return fake


# --- TikTok --------------------------------------------------------------------------------------------------


@dataclass
class TikTok:
    upstream: Upstream
    oauth: OAuthServer
    open_id: str = "-000OpenIdOfTheBrand"
    username: str = "gridironedge"
    processing_polls: int = 1
    privacy_levels: tuple = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
    uploads: dict = field(default_factory=dict)
    posts: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _answer(data: dict, status: int = 200, code: str = "ok", message: str = ""):
        return ok({"data": data, "error": {"code": code, "message": message, "log_id": "20261204103000LOG"}},
                  status=status)

    def _authed(self, seen: Seen) -> bool:
        return self.oauth.who(bearer(seen)) is not None

    def api(self, seen: Seen):
        if not self._authed(seen):
            return self._answer({}, 401, "access_token_invalid", "The access token is invalid or not found in the "
                                                                  "request.")
        body = as_json(seen)
        with self.lock:
            if seen.path == "/v2/post/publish/creator_info/query/":
                return self._answer({"creator_username": self.username, "creator_nickname": "Gridiron Edge",
                                     "privacy_level_options": list(self.privacy_levels), "comment_disabled": False,
                                     "duet_disabled": False, "stitch_disabled": True,
                                     "max_video_post_duration_sec": 600})
            if seen.path == "/v2/post/publish/video/init/":
                source, info = body.get("source_info") or {}, body.get("post_info") or {}
                if info.get("privacy_level") not in self.privacy_levels:
                    return self._answer({}, 400, "privacy_level_option_mismatch", "privacy_level is not allowed")
                size, chunk, total = source.get("video_size"), source.get("chunk_size"), source.get("total_chunk_count")
                if source.get("source") != "FILE_UPLOAD" or not all(isinstance(v, int) for v in (size, chunk, total)):
                    return self._answer({}, 400, "invalid_params", "source_info is invalid")
                mb = 1024 * 1024
                if size < 5 * mb and (chunk != size or total != 1):
                    return self._answer({}, 400, "invalid_params", "a video under 5 MB is sent whole")
                if size >= 5 * mb and (not 5 * mb <= chunk <= 64 * mb or total != size // chunk):
                    return self._answer({}, 400, "invalid_params", "chunk_size or total_chunk_count is invalid")
                publish_id = f"v_pub_file~v2-1.{next_id()}"
                upload_id = next_id()
                self.uploads[upload_id] = {"publish_id": publish_id, "size": size, "chunk": chunk, "total": total,
                                           "received": 0, "data": b"", "info": info, "status": "PROCESSING_UPLOAD",
                                           "polls": self.processing_polls}
                return self._answer({"publish_id": publish_id,
                                     "upload_url": f"{self.upstream.url}/upload/?upload_id={upload_id}"})
            if seen.path == "/v2/post/publish/content/init/":
                photos = (body.get("source_info") or {}).get("photo_images") or []
                links = all(str(u).startswith("http") for u in photos)
                if body.get("media_type") != "PHOTO" or not photos or not links:
                    return self._answer({}, 400, "invalid_params", "photo_images is invalid")
                publish_id = f"p_pub_url~v2.{next_id()}"
                self.uploads[publish_id] = {"publish_id": publish_id, "status": "PROCESSING_DOWNLOAD",
                                            "polls": self.processing_polls, "info": body.get("post_info") or {},
                                            "photos": photos}
                self._post(self.uploads[publish_id])
                return self._answer({"publish_id": publish_id})
            if seen.path == "/v2/post/publish/status/fetch/":
                upload = next((u for u in self.uploads.values() if u["publish_id"] == body.get("publish_id")), None)
                if upload is None:
                    return self._answer({}, 400, "invalid_publish_id", "publish_id does not exist")
                if upload.get("post_id") and upload["status"] != "PUBLISH_COMPLETE":
                    upload["polls"] -= 1
                    if upload["polls"] < 0:
                        upload["status"] = "PUBLISH_COMPLETE"
                data = {"status": upload["status"], "uploaded_bytes": upload.get("received", 0)}
                if upload["status"] == "PUBLISH_COMPLETE":
                    data["publicaly_available_post_id"] = [int(upload["post_id"])]
                return self._answer(data)
            if seen.path == "/v2/video/query/":
                ids = ((body.get("filters") or {}).get("video_ids")) or []
                calls = len(self.upstream.requests_to("/v2/video/query/"))
                videos = [{"id": p["id"], "view_count": 2000 * calls, "like_count": 150 * calls,
                           "comment_count": 9 * calls, "share_count": 20 * calls} for p in self.posts if p["id"] in ids]
                return ok({"data": {"videos": videos, "cursor": 0, "has_more": False},
                           "error": {"code": "ok", "message": "", "log_id": "LOG"}})
            if seen.path == "/v2/user/info/":
                return self._answer({"user": {"open_id": self.open_id, "display_name": "Gridiron Edge",
                                              "username": self.username}})
        return self._answer({}, 404, "invalid_params", "no such endpoint")

    def _post(self, upload: dict) -> None:
        upload["post_id"] = next_id()
        self.posts.append({"id": upload["post_id"], "publish_id": upload["publish_id"], **upload["info"],
                           "bytes": len(upload.get("data", b"")), "photos": upload.get("photos")})

    def upload(self, seen: Seen):
        """PUT {upload_url}: the chunks in order, Content-Range first-last/total; 206 until the last, then 201."""
        upload = self.uploads.get((seen.query.get("upload_id") or [""])[0])
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", seen.headers.get("Content-Range", ""))
        if upload is None or match is None:
            return ok({"error": {"code": "invalid_params", "message": "bad upload"}}, status=400)
        first, last, total = map(int, match.groups())
        with self.lock:
            if first != upload["received"] or total != upload["size"] or last - first + 1 != len(seen.body):
                return ok({"error": {"code": "invalid_params", "message": "chunk out of order or size"}}, status=416)
            upload["data"] += seen.body
            upload["received"] = last + 1
            if upload["received"] == upload["size"]:
                self._post(upload)  # the last chunk in: the post is made, and public once processed
                return 201, {}, b""
        return 206, {}, b""

    def token(self, seen: Seen):
        params = form(seen)
        if params.get("client_key") != self.oauth.client_id or params.get("client_secret") != self.oauth.client_secret:
            return ok({"error": "invalid_client", "error_description": "Client key or secret is incorrect.",
                       "log_id": "LOG"}, status=400)
        account = self.oauth.grant(params)
        if account is None:
            return ok({"error": "invalid_grant", "error_description": "Authorization code is expired.",
                       "log_id": "LOG"}, status=400)
        made = self.oauth.token_for(account)
        return ok({**made, "open_id": account, "refresh_expires_in": 31536000, "scope": "video.publish"})

    def revoke(self, seen: Seen):
        self.oauth.revoked.append(form(seen).get("token"))
        return ok({})


def serve_tiktok(upstream: Upstream | None = None, **kwargs) -> TikTok:
    upstream = upstream or start()
    fake = TikTok(upstream, OAuthServer("tt-client-key", "tt-secret", access_ttl=86400), **kwargs)
    upstream.route("POST", "/v2/oauth/token/", fake.token)
    upstream.route("POST", "/v2/oauth/revoke/", fake.revoke)
    upstream.route("PUT", "/upload/", fake.upload)
    for method in ("GET", "POST"):
        upstream.route(method, "/v2/", fake.api)
    return fake


# --- YouTube -------------------------------------------------------------------------------------------------


@dataclass
class YouTube:
    upstream: Upstream
    oauth: OAuthServer
    channel_id: str = "UCgridironedge000000000"
    sessions: dict = field(default_factory=dict)
    posts: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _error(status: int, reason: str, message: str):
        return ok({"error": {"code": status, "message": message,
                             "errors": [{"domain": "youtube.video", "reason": reason, "message": message}]}},
                  status=status)

    def start_session(self, seen: Seen):
        if self.oauth.who(bearer(seen)) is None:
            return self._error(401, "authError", "Invalid Credentials")
        video = as_json(seen)
        title = (video.get("snippet") or {}).get("title", "")
        if not title or len(title) > 100 or "<" in title or ">" in title:
            return self._error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
        if "selfDeclaredMadeForKids" not in (video.get("status") or {}):
            return self._error(400, "invalidVideoMetadata", "status.selfDeclaredMadeForKids is required here")
        session = next_id()
        self.sessions[session] = {"size": int(seen.headers.get("X-Upload-Content-Length", "0")), "data": b"",
                                  "video": video}
        return 200, {"Location": f"{self.upstream.url}/upload/session/{session}"}, b""

    def put(self, seen: Seen):
        session = self.sessions.get(seen.path.rsplit("/", 1)[-1])
        if session is None:
            return self._error(404, "notFound", "The upload session does not exist or expired.")
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)|bytes \*/(\d+)", seen.headers.get("Content-Range", ""))
        if match is None:
            return self._error(400, "badContent", "Content-Range is required")
        with self.lock:
            if match.group(4) is None:
                first, last = int(match.group(1)), int(match.group(2))
                if first != len(session["data"]) or last - first + 1 != len(seen.body):
                    return self._error(400, "badContent", "the bytes do not follow the uploaded ones")
                session["data"] += seen.body
            if len(session["data"]) == session["size"]:
                if "id" not in session:
                    session["id"] = f"yt{next_id()[-9:]}"
                    self.posts.append({"id": session["id"], **session["video"], "bytes": session["size"]})
                return ok({"kind": "youtube#video", "id": session["id"], "snippet": session["video"]["snippet"],
                           "status": {"uploadStatus": "uploaded", **session["video"]["status"]}}, status=201)
            headers = {"Range": f"bytes=0-{len(session['data']) - 1}"} if session["data"] else {}
            return 308, headers, b""

    def api(self, seen: Seen):
        if self.oauth.who(bearer(seen)) is None:
            return self._error(401, "authError", "Invalid Credentials")
        if seen.path == "/youtube/v3/channels":
            return ok({"items": [{"id": self.channel_id, "snippet": {"title": "Gridiron Edge",
                                                                    "customUrl": "@gridironedge"}}]})
        if seen.path == "/youtube/v3/videos":
            ids = (seen.query.get("id") or [""])[0].split(",")
            calls = len(self.upstream.requests_to("/youtube/v3/videos"))
            return ok({"kind": "youtube#videoListResponse", "items": [
                {"kind": "youtube#video", "id": p["id"], "statistics": {
                    "viewCount": str(3000 * calls), "likeCount": str(200 * calls), "favoriteCount": "0",
                    "commentCount": str(11 * calls)}} for p in self.posts if p["id"] in ids]})
        if seen.path == "/v2/reports":
            return ok({"kind": "youtubeAnalytics#resultTable", "columnHeaders": [
                {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
                {"name": "averageViewDuration", "columnType": "METRIC", "dataType": "INTEGER"},
                {"name": "shares", "columnType": "METRIC", "dataType": "INTEGER"}], "rows": [[3000, 12, 25]]})
        return self._error(404, "notFound", "no such endpoint")

    def token(self, seen: Seen):
        params = form(seen)
        if params.get("client_id") != self.oauth.client_id or params.get("client_secret") != self.oauth.client_secret:
            return ok({"error": "invalid_client", "error_description": "The OAuth client was not found."}, status=401)
        account = self.oauth.grant(params, turns_refresh=False)
        if account is None:
            return ok({"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                      status=400)
        made = self.oauth.token_for(account)
        if params.get("grant_type") == "refresh_token":
            made.pop("refresh_token")  # Google keeps the refresh token
        return ok(made)

    def revoke(self, seen: Seen):
        token = form(seen).get("token") or (seen.query.get("token") or [""])[0]
        self.oauth.revoked.append(token)
        self.oauth.refresh.pop(token, None)
        return ok({})


def serve_youtube(upstream: Upstream | None = None) -> YouTube:
    upstream = upstream or start()
    fake = YouTube(upstream, OAuthServer("yt-client.apps.googleusercontent.com", "yt-secret"))
    upstream.route("POST", "/upload/youtube/v3/videos", fake.start_session)
    upstream.route("PUT", "/upload/session/", fake.put)
    upstream.route("GET", "/youtube/v3/", fake.api)
    upstream.route("GET", "/v2/reports", fake.api)
    upstream.route("POST", "/token", fake.token)
    upstream.route("POST", "/revoke", fake.revoke)
    return fake


# --- X -------------------------------------------------------------------------------------------------------


@dataclass
class X:
    upstream: Upstream
    oauth: OAuthServer
    user_id: str = "1880000000000000001"
    username: str = "gridironedge"
    processing_polls: int = 1
    media: dict = field(default_factory=dict)
    posts: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _problem(status: int, title: str, detail: str, headers: dict | None = None):
        return ok({"title": title, "detail": detail, "type": "about:blank", "status": status}, status=status,
                  headers=headers)

    def media_upload(self, seen: Seen):
        if self.oauth.who(bearer(seen)) is None:
            return self._problem(401, "Unauthorized", "Unauthorized")
        fields = {name: data for name, _, data in multipart_fields(seen)}
        command = (fields.get("command") or b"").decode() or (seen.query.get("command") or [""])[0]
        with self.lock:
            if command == "INIT":
                media_id = next_id()
                category = fields.get("media_category", b"").decode()
                self.media[media_id] = {"total": int(fields["total_bytes"]), "chunks": {}, "category": category,
                                        "key": f"{'13' if 'video' in category else '3'}_{media_id}",
                                        "state": "", "polls": self.processing_polls, "alt": ""}
                return ok({"data": {"id": media_id, "media_key": self.media[media_id]["key"],
                                    "expires_after_secs": 86400}}, status=202)
            media = self.media.get((fields.get("media_id") or b"").decode() or (seen.query.get("media_id") or [""])[0])
            if media is None:
                return self._problem(400, "Invalid Request", "media_id is not valid")
            if command == "APPEND":
                chunk = fields.get("media") or b""
                if len(chunk) > 5 * 1024 * 1024:
                    return self._problem(400, "Invalid Request", "a segment is at most 5 MB")
                media["chunks"][int(fields["segment_index"])] = chunk
                return 204, {}, b""
            if command == "FINALIZE":
                size = sum(len(c) for c in media["chunks"].values())
                if size != media["total"]:
                    return self._problem(400, "Invalid Request", f"File size mismatch: {size} of {media['total']}")
                answer = {"id": next(k for k, v in self.media.items() if v is media), "media_key": media["key"],
                          "size": size, "expires_after_secs": 86400}
                if "video" in media["category"]:
                    media["state"] = "pending"
                    answer["processing_info"] = {"state": "pending", "check_after_secs": 1}
                else:
                    media["state"] = "succeeded"
                return ok({"data": answer}, status=201)
            if command == "STATUS":
                media["polls"] -= 1
                media["state"] = "succeeded" if media["polls"] < 0 else "in_progress"
                info = {"state": media["state"]}
                if media["state"] != "succeeded":
                    info.update(check_after_secs=1, progress_percent=50)
                return ok({"data": {"id": next(k for k, v in self.media.items() if v is media),
                                    "media_key": media["key"], "processing_info": info}})
        return self._problem(400, "Invalid Request", f"unknown command {command!r}")

    def metadata(self, seen: Seen):
        body = as_json(seen)
        media = self.media.get(str(body.get("id")))
        if media is None:
            return self._problem(400, "Invalid Request", "media id is not valid")
        media["alt"] = ((body.get("metadata") or {}).get("alt_text") or {}).get("text", "")
        return ok({"data": {"associated_metadata": True}})

    def tweets(self, seen: Seen):
        if self.oauth.who(bearer(seen)) is None:
            return self._problem(401, "Unauthorized", "Unauthorized")
        if seen.method == "GET":
            ids = (seen.query.get("ids") or [""])[0].split(",")
            calls = len(self.upstream.requests_to("/2/tweets")) - len([s for s in self.upstream.requests_to(
                "/2/tweets") if s.method == "POST"])
            return ok({"data": [{"id": p["id"], "text": p["text"], "public_metrics": {
                "retweet_count": 5 * calls, "reply_count": 3 * calls, "like_count": 40 * calls, "quote_count": calls,
                "bookmark_count": 2 * calls, "impression_count": 4000 * calls}} for p in self.posts if p["id"] in ids]})
        body = as_json(seen)
        text, ids = body.get("text", ""), ((body.get("media") or {}).get("media_ids")) or []
        if len(text) > 280:
            return self._problem(400, "Invalid Request", "text is too long")
        with self.lock:
            for media_id in ids:
                media = self.media.get(media_id)
                if media is None or media["state"] != "succeeded":
                    return self._problem(400, "Invalid Request", f"media {media_id} is not ready")
            if any(p["text"] == text for p in self.posts):
                return self._problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            post_id = next_id()
            self.posts.append({"id": post_id, "text": text, "media_ids": ids,
                               "media_keys": [self.media[i]["key"] for i in ids],
                               "alt": [self.media[i]["alt"] for i in ids]})
        return ok({"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}}, status=201)

    def timeline(self, seen: Seen):
        if self.oauth.who(bearer(seen)) is None:
            return self._problem(401, "Unauthorized", "Unauthorized")
        if seen.path == "/2/users/me":
            return ok({"data": {"id": self.user_id, "name": "Gridiron Edge", "username": self.username}})
        return ok({"data": [{"id": p["id"], "text": p["text"], "attachments": {"media_keys": p["media_keys"]}}
                            for p in reversed(self.posts)], "meta": {"result_count": len(self.posts)}})

    def token(self, seen: Seen):
        expected = base64.b64encode(f"{self.oauth.client_id}:{self.oauth.client_secret}".encode()).decode()
        if seen.headers.get("Authorization") != f"Basic {expected}":
            return ok({"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
                      status=401)
        params = form(seen)
        account = self.oauth.grant(params)
        if account is None:
            return ok({"error": "invalid_request", "error_description": "Value passed for the token was invalid."},
                      status=400)
        made = self.oauth.token_for(account)
        return ok({**made, "token_type": "bearer", "expires_in": 7200})

    def revoke(self, seen: Seen):
        self.oauth.revoked.append(form(seen).get("token"))
        return ok({"revoked": True})


def serve_x(upstream: Upstream | None = None) -> X:
    upstream = upstream or start()
    fake = X(upstream, OAuthServer("x-client", "x-secret", access_ttl=7200))
    upstream.route("POST", "/2/media/upload", fake.media_upload)
    upstream.route("GET", "/2/media/upload", fake.media_upload)
    upstream.route("POST", "/2/media/metadata", fake.metadata)
    upstream.route("POST", "/2/tweets", fake.tweets)
    upstream.route("GET", "/2/tweets", fake.tweets)
    upstream.route("GET", "/2/users/", fake.timeline)
    upstream.route("POST", "/2/oauth2/token", fake.token)
    upstream.route("POST", "/2/oauth2/revoke", fake.revoke)
    return fake
