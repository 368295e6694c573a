#!/usr/bin/env bash
# Create <repo>/.tools/venv with the official Kubernetes Python client, so
# conformance-style tests can talk to Bosun through a real client library.
set -euo pipefail

# Client major N targets Kubernetes 1.N; 35.x matches the kubectl v1.35 we test with.
CLIENT_VERSION="${BOSUN_K8S_PY_VERSION:-35.0.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/venv"
PY="$VENV/bin/python"

log() { echo "fetch-python-client: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
installed() { "$PY" -c 'import importlib.metadata as m; print(m.version("kubernetes"))' 2>/dev/null; }

if [[ "$(installed)" == "$CLIENT_VERSION" ]]; then
  log "kubernetes==$CLIENT_VERSION already in $VENV; nothing to do"
  echo "kubernetes $CLIENT_VERSION"
  exit 0
fi

command -v python3 >/dev/null || die "python3 not found; install python3 (and python3-venv on Debian), then re-run"

# A venv whose interpreter no longer runs (e.g. python3 was upgraded) is rebuilt.
if ! "$PY" -c '' 2>/dev/null; then
  log "creating virtualenv $VENV ..."
  rm -rf "$VENV"
  python3 -m venv "$VENV" ||
    die "python3 -m venv failed; on Debian/Ubuntu run 'apt-get install python3-venv', then re-run"
fi

log "installing kubernetes==$CLIENT_VERSION (and its dependencies) from PyPI ..."
start=$SECONDS
"$PY" -m pip install --quiet --disable-pip-version-check "kubernetes==$CLIENT_VERSION" ||
  die "pip install failed; check PyPI access (pip config list, PIP_INDEX_URL), or delete $VENV and re-run"
log "installed in $((SECONDS - start))s"

[[ "$(installed)" == "$CLIENT_VERSION" ]] || die "kubernetes import check failed in $VENV; delete it and re-run"
echo "kubernetes $(installed)"
