"""What every ffmpeg child of the talk may open."""

from __future__ import annotations

from typing import Final

# What ffmpeg may open, per kind of input (never more): a URL must not reach local files,
# neither directly, nor through a playlist (HLS, ffconcat) or a redirect.
PROTOCOLS_FILE: Final = "file"
PROTOCOLS_URL: Final = "http,https,tcp,tls,crypto"  # crypto: AES-128 HLS segments
PROTOCOLS_PIPE: Final = "pipe"
