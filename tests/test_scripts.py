"""scripts/_python.sh takes its Debian mirror from the machine's apt sources."""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "_python.sh"
BASH = shutil.which("bash") or "/bin/bash"

DEBIAN_SOURCES = """\
Types: deb
# a comment with http://commented.example/debian
URIs: http://mirror-a.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror-a.example/debian-security
Suites: bookworm-security
Components: main
"""
THIRD_PARTY_SOURCES = """\
Types: deb
URIs: https://vendor.example/apt
Suites: stable
Components: main
"""
SOURCES_LIST = """\
# deb http://commented.example/debian bookworm main
deb http://mirror-b.example/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror-b.example/debian/ bookworm main
"""


def mirror(apt_etc: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        [BASH, str(SCRIPT), "--print-mirror"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(apt_etc), "APT_ETC": str(apt_etc), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "sources.list.d").mkdir(exist_ok=True)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "sources.list.d/aaa-vendor.sources": THIRD_PARTY_SOURCES,
                "sources.list.d/debian.sources": DEBIAN_SOURCES,
            },
            "http://mirror-a.example/debian",
            id="deb822-without-sources.list",
        ),
        pytest.param({"sources.list": SOURCES_LIST}, "http://mirror-b.example/debian", id="list"),
        pytest.param(
            {
                "sources.list": SOURCES_LIST,
                "sources.list.d/debian.sources": DEBIAN_SOURCES,
            },
            "http://mirror-a.example/debian",
            id="deb822-wins",
        ),
        pytest.param(
            {"sources.list.d/vendor.sources": THIRD_PARTY_SOURCES},
            "https://vendor.example/apt",
            id="only-a-non-debian-path",
        ),
    ],
)
def test_mirror_from_apt_sources(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    result = mirror(write(tmp_path, files))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_debian_mirror_overrides(tmp_path: Path) -> None:
    root = write(tmp_path, {"sources.list.d/debian.sources": DEBIAN_SOURCES})
    result = mirror(root, DEBIAN_MIRROR="http://override.example/debian/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://override.example/debian"


def test_no_sources_is_a_clear_error(tmp_path: Path) -> None:
    result = mirror(tmp_path / "missing")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "DEBIAN_MIRROR" in result.stderr
