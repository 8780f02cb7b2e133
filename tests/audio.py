"""Audio helpers for tests: generate sources with the real ffmpeg, decode what the emulator got."""

from __future__ import annotations

import contextlib
from pathlib import Path
import shutil
import subprocess

import numpy as np

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
RATE = 8000


def _alaw_table() -> np.ndarray:
    """ITU-T G.711 A-law -> 16-bit linear, for all 256 codes."""
    table = np.zeros(256, dtype=np.int16)
    for code in range(256):
        value = code ^ 0x55
        sign = value & 0x80
        exponent = (value >> 4) & 0x07
        mantissa = value & 0x0F
        if exponent == 0:
            sample = (mantissa << 4) + 8
        else:
            sample = ((mantissa << 4) + 0x108) << (exponent - 1)
        table[code] = sample if sign else -sample
    return table


ALAW_TABLE = _alaw_table()


def alaw_decode(data: bytes) -> np.ndarray:
    """Decode A-law bytes to float samples in [-1, 1]."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return ALAW_TABLE[codes].astype(np.float64) / 32768.0


def dominant_frequency(samples: np.ndarray, rate: int = RATE) -> float:
    """Return the strongest frequency of a signal."""
    window = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(window))
    spectrum[0] = 0
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def voiced(samples: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Return the part of a signal between the first and last sample above a threshold."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]


def rms(samples: np.ndarray) -> float:
    """Return the RMS level of a signal."""
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def tones(samples: np.ndarray, expected: list[float], window: int = 800) -> list[float]:
    """Return the expected tones heard, in order (100 ms windows, repeats collapsed)."""
    heard: list[float] = []
    for start in range(0, len(samples) - window + 1, window):
        chunk = samples[start : start + window]
        if rms(chunk) < 0.005:
            continue
        frequency = dominant_frequency(chunk)
        match = [tone for tone in expected if abs(frequency - tone) < 40]
        if match and (not heard or heard[-1] != match[0]):
            heard.append(match[0])
    return heard


def make_tone(path: Path, frequency: float, seconds: float, codec: str | None = None) -> Path:
    """Write a sine tone with ffmpeg (format from the file extension)."""
    args = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    args += ["-i", f"sine=frequency={frequency}:duration={seconds}:sample_rate=44100"]
    if codec:
        args += ["-c:a", codec]
    subprocess.run([*args, str(path)], check=True)  # noqa: S603
    return path


def make_silence(path: Path, seconds: float) -> Path:
    """Write a silent file."""
    args = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    args += ["-i", f"anullsrc=r=44100:cl=mono:d={seconds}", str(path)]
    subprocess.run(args, check=True)  # noqa: S603
    return path


def ffmpeg_children() -> list[int]:
    """Return the PIDs of ffmpeg processes that are children of this process.

    A child is known by its executable (set early in exec, before Popen returns) or its first
    argument (a wrapper script): the arguments alone are empty for a moment after Popen has
    returned, while the kernel still sets up the new program, and a busy machine can see that.
    """
    import os  # noqa: PLC0415

    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) != os.getpid():
            continue
        with contextlib.suppress(OSError):
            names = [(proc / "exe").readlink().name.encode()]
            names.append((proc / "cmdline").read_bytes().split(b"\0")[0])
            if any(b"ffmpeg" in name for name in names):
                found.append(int(proc.name))
    return found


def describe_processes(pids: list[int]) -> str:
    """Return the command line and state of each process (what a leftover child was)."""
    lines = []
    for pid in pids:
        proc = Path("/proc") / str(pid)
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(
                line
                for line in (proc / "status").read_text().splitlines()
                if line.startswith("State:")
            )
        except OSError, StopIteration:
            args, state = "?", "gone"
        lines.append(f"{pid} [{state}] {args.strip()}")
    return "; ".join(lines)
