"""Still images of a live stream: one frame per camera, scaled copies of it per requested size.

A grab pulls the live URL once and decodes one frame at the camera's own size (ffmpeg); every
request of a few seconds, whatever width and height it asks for, is served from that picture.
A requested size is fitted to the picture: at least the requested box (the aspect ratio kept,
as Home Assistant's own scaling does), never larger than the picture itself. Scaled copies are
made with Pillow (a dependency of Home Assistant core) in the executor, a few at a time, and
kept only as long as the picture they come from, at most ``MAX_SCALED`` of them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import io
import logging
import shutil
import time
from typing import TYPE_CHECKING, Any, Final

from PIL import Image

from ..util import redact_text, run_to_end
from .errors import LiveFfmpegError, LiveSnapshotError

if TYPE_CHECKING:
    from .stream import LiveStream

_LOGGER = logging.getLogger(__name__)

DEFAULT_SNAPSHOT_TTL: Final = 5.0  # seconds a picture (and its scaled copies) is served
MAX_SCALED: Final = 8  # scaled copies kept per camera (least recently used dropped first)
SCALE_CONCURRENCY: Final = 2  # scaled copies made at once per camera (each decodes the picture)
JPEG_QUALITY: Final = 75  # of scaled copies, as Home Assistant scales camera images
# A live stream has no index to probe: decode the first frame after 1 s of probing, not 5 s.
SNAPSHOT_INPUT_OPTIONS: Final = ("-analyzeduration", "1000000", "-probesize", "65536")
_SOF_MARKERS: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_MARKER: Final = 0xFF

type Size = tuple[int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Picture:
    """One JPEG frame and its size in pixels (equal only to itself)."""

    data: bytes = field(repr=False)
    size: Size


def jpeg_size(data: bytes) -> Size | None:
    """Return (width, height) of a JPEG from its start-of-frame segment, None if it has none."""
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(data) and data[pos] == _MARKER:
        marker = data[pos + 1]
        if marker in _SOF_MARKERS:
            height = int.from_bytes(data[pos + 5 : pos + 7])
            width = int.from_bytes(data[pos + 7 : pos + 9])
            return (width, height) if width and height else None
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4])
    return None


def fit_size(source: Size, width: int | None, height: int | None) -> Size:
    """Return the size to serve for a request: the aspect kept, never above ``source``.

    The result covers the requested box (at least ``width`` wide and ``height`` high where the
    picture is that large), like Home Assistant's scaling of camera images; missing or
    non-positive values do not constrain it.
    """
    src_width, src_height = source
    factors = [
        wanted / have
        for wanted, have in ((width, src_width), (height, src_height))
        if wanted is not None and wanted > 0
    ]
    factor = max(factors, default=1.0)
    if factor >= 1.0:
        return source
    return (
        min(src_width, max(1, round(src_width * factor))),
        min(src_height, max(1, round(src_height * factor))),
    )


def scale_jpeg(data: bytes, size: Size, quality: int = JPEG_QUALITY) -> bytes:
    """Return the JPEG scaled to ``size`` (blocking: run it in the executor)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", size)  # let the JPEG decoder skip detail that is scaled away
        scaled = image.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    scaled.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def snapshot_args(ffmpeg: str, url: str) -> list[str]:
    """Return the ffmpeg command that writes one JPEG frame of a live URL, at its own size."""
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *SNAPSHOT_INPUT_OPTIONS,
        "-i",
        url,
        "-an",
        "-frames:v",
        "1",
        "-c:v",
        "mjpeg",
        "-f",
        "image2pipe",
        "-",
    ]


def _last_line(stderr: bytes) -> str:
    """Return ffmpeg's last error line, its URLs redacted (signatures are secrets)."""
    lines = stderr.decode(errors="replace").strip().splitlines()
    return redact_text(lines[-1]) if lines else ""


async def read_frame(ffmpeg: str, url: str, *, within: float) -> Picture | None:
    """Decode one frame of a live URL; None when none was read within ``within`` seconds.

    Raises ``LiveFfmpegError`` when ffmpeg cannot be started. The child is killed and reaped
    whatever happens, cancellation included.
    """
    try:
        result = await run_to_end(snapshot_args(ffmpeg, url), within=within)
    except OSError as err:
        raise LiveFfmpegError(f"cannot run ffmpeg: {err}", error=str(err)) from err
    if result is None:
        _LOGGER.debug("No frame within %s s", within)
        return None
    size = jpeg_size(result.stdout)
    if result.code != 0 or size is None:
        _LOGGER.debug("No frame (ffmpeg exit %s): %s", result.code, _last_line(result.stderr))
        return None
    return Picture(result.stdout, size)


async def grab_frame(ffmpeg: str, live: LiveStream, *, within: float) -> Picture:
    """Return one frame of a channel's live stream, at the stream's own size.

    When no frame can be read from the current pull URL (the platform may have ended the
    stream: idle, a camera reboot), the stream is started once more and read again before
    ``LiveSnapshotError`` is raised; each read is bounded by ``within`` seconds. A missing
    ffmpeg is ``LiveFfmpegError`` at once, before any stream is started.
    """
    loop = asyncio.get_running_loop()
    if await loop.run_in_executor(None, shutil.which, ffmpeg) is None:
        raise LiveFfmpegError(f"{ffmpeg} not found", error=f"{ffmpeg} not found")
    url = await live.async_url()
    picture = await read_frame(ffmpeg, url, within=within)
    if picture is None:
        _LOGGER.debug("No frame from the stream %s: starting it once more", live.stream_id)
        url = await live.async_restart(url)
        picture = await read_frame(ffmpeg, url, within=within)
    if picture is None:
        raise LiveSnapshotError(f"no frame from {live.stream_id}", stream=live.stream_id)
    return picture


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve a finished shared future's exception (its waiters may all have gone)."""
    if not future.cancelled():
        future.exception()


class SnapshotCache:
    """One picture per camera, shared by every request; scaled copies bounded in number and time.

    Concurrent requests, of any size, wait for the same grab; a grab that fails (raises) is not
    kept, so the next request tries again. The picture and its scaled copies are dropped
    ``ttl`` seconds after the grab.
    """

    def __init__(
        self,
        ttl: float = DEFAULT_SNAPSHOT_TTL,
        *,
        max_scaled: int = MAX_SCALED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Initialize."""
        self.ttl = ttl
        self.max_scaled = max_scaled
        self._clock = clock
        self._picture: Picture | None = None
        self._taken = 0.0
        self._grab: asyncio.Future[Picture] | None = None
        self._scaled: OrderedDict[Size, bytes] = OrderedDict()
        self._scaling: dict[tuple[Picture, Size], asyncio.Future[bytes]] = {}
        self._slots = asyncio.Semaphore(SCALE_CONCURRENCY)
        self._expiry: asyncio.TimerHandle | None = None
        self.hits = 0
        self.grabs = 0
        self.scales = 0

    @property
    def memory(self) -> int:
        """Return the bytes of the images kept (the picture and its scaled copies)."""
        kept = len(self._picture.data) if self._picture is not None else 0
        return kept + sum(len(data) for data in self._scaled.values())

    @property
    def copies(self) -> int:
        """Return how many scaled copies are kept."""
        return len(self._scaled)

    async def get(
        self,
        grab: Callable[[], Awaitable[Picture]],
        width: int | None = None,
        height: int | None = None,
    ) -> bytes:
        """Return the camera's picture fitted to the requested size (see ``fit_size``)."""
        picture = await self._current(grab)
        size = fit_size(picture.size, width, height)
        if size == picture.size:
            return picture.data
        return await self._scaled_copy(picture, size)

    async def _current(self, grab: Callable[[], Awaitable[Picture]]) -> Picture:
        if self._picture is not None and self._clock() - self._taken < self.ttl:
            self.hits += 1
            return self._picture
        if self._grab is None:
            self._grab = asyncio.ensure_future(self._take(grab))
            self._grab.add_done_callback(_consume)
        else:
            self.hits += 1
        return await asyncio.shield(self._grab)

    async def _take(self, grab: Callable[[], Awaitable[Picture]]) -> Picture:
        self.grabs += 1
        try:
            picture = await grab()
        finally:
            self._grab = None
        self._drop()
        self._picture, self._taken = picture, self._clock()
        self._expiry = asyncio.get_running_loop().call_later(self.ttl, self._drop)
        return picture

    async def _scaled_copy(self, picture: Picture, size: Size) -> bytes:
        if picture is self._picture and (data := self._scaled.get(size)) is not None:
            self._scaled.move_to_end(size)
            self.hits += 1
            return data
        future = self._scaling.get((picture, size))
        if future is None:
            future = asyncio.ensure_future(self._scale(picture, size))
            future.add_done_callback(_consume)
            self._scaling[picture, size] = future
        return await asyncio.shield(future)

    async def _scale(self, picture: Picture, size: Size) -> bytes:
        try:
            async with self._slots:
                self.scales += 1
                loop = asyncio.get_running_loop()
                data = await loop.run_in_executor(None, scale_jpeg, picture.data, size)
        except (OSError, ValueError) as err:  # not decodable: the picture as it is, not kept
            _LOGGER.debug("Cannot scale the picture to %s: %s", size, err)
            return picture.data
        finally:
            self._scaling.pop((picture, size), None)
        if picture is self._picture:  # not replaced or dropped meanwhile
            self._scaled[size] = data
            while len(self._scaled) > self.max_scaled:
                self._scaled.popitem(last=False)
        return data

    def _drop(self) -> None:
        """Forget the picture and its scaled copies (expired or replaced)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._picture = None
        self._scaled.clear()

    def clear(self) -> None:
        """Forget the images kept."""
        self._drop()

    async def async_close(self) -> None:
        """Cancel grabs and scaling in progress and forget the images (unload)."""
        pending = [f for f in (self._grab, *self._scaling.values()) if f is not None]
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self._drop()
