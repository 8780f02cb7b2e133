"""A local HTTP server for media URLs that misbehave: dropped connections, redirects, playlists."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from tests.audio import make_tone


class MediaServer:
    """Serves a folder on 127.0.0.1, plus routes that fail the way real servers do.

    * ``/files/<name>``: the file (static, with Content-Length);
    * ``/drop/<name>``: announces the whole file, sends ``drop_fraction`` of it, then closes the
      connection (a network drop in the middle of the file);
    * ``/redirect?to=<url>``: a 302 redirect to any URL (also ``file:///…``);
    * ``/auth/<name>``: the file behind HTTP basic authentication (user ``user``, ``password``).
    """

    def __init__(self, folder: Path, drop_fraction: float = 0.4) -> None:
        """Initialize for a folder."""
        self.folder = folder
        self.drop_fraction = drop_fraction
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Start serving; return the base URL."""
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/drop/{name}", self._drop)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/auth/{name}", self._auth)
        app.router.add_static("/files/", self.folder)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: web.Handler) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        return await handler(request)

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        data = (self.folder / request.match_info["name"]).read_bytes()
        response = web.StreamResponse(
            headers={"Content-Type": "audio/wav", "Content-Length": str(len(data))}
        )
        await response.prepare(request)
        await response.write(data[: int(len(data) * self.drop_fraction)])
        assert request.transport is not None
        request.transport.close()  # sends what was written, then drops the connection
        return response

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["to"])

    async def _auth(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != "Basic dXNlcjpwYXNzd29yZA==":
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="media"'})
        return web.FileResponse(self.folder / request.match_info["name"])


def make_ts(path: Path, frequency: float, seconds: float) -> Path:
    """Write an MPEG-TS segment with an MP2 tone (what an HLS playlist lists)."""
    return make_tone(path, frequency, seconds, codec="mp2")


def hls_playlist(*segments: tuple[str, float]) -> str:
    """Return an HLS media playlist of (URI, seconds) segments."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:10", "#EXT-X-MEDIA-SEQUENCE:0"]
    for uri, seconds in segments:
        lines += [f"#EXTINF:{seconds:.3f},", uri]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])
