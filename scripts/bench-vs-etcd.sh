#!/usr/bin/env bash
# Compares Bosun's store with etcd on this machine: fetches etcd 3.5.1 and protoc (etcd-client's
# build needs it), starts etcd on loopback with a temporary data directory, runs
# `bosun bench all --compare-etcd` against it and stops it by its process id.
#
#   scripts/bench-vs-etcd.sh [bench options, e.g. --runs 3 --objects 20000]
#
# The chart goes to docs/bench-watch.svg (BOSUN_BENCH_SVG overrides it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "bench-vs-etcd: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/fetch-etcd.sh >&2
ETCD="$ROOT/.tools/bin/etcd"

bash scripts/fetch-protoc.sh >&2
export PROTOC="$ROOT/.tools/bin/protoc"

# Two free loopback ports (client and peer), so that a running etcd elsewhere is never touched.
read -r CLIENT_PORT PEER_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
ENDPOINT="http://127.0.0.1:$CLIENT_PORT"
PEER="http://127.0.0.1:$PEER_PORT"
DATA="$(mktemp -d -t bosun-bench-etcd-XXXXXX)"

# Build first, so that etcd does not sit idle through the compilation.
log "building bosun with the etcd feature (release)"
cargo build --release -p bosun --features etcd

ETCD_PID=""
cleanup() {
  if [[ -n "$ETCD_PID" ]]; then
    kill "$ETCD_PID" 2>/dev/null || true
    wait "$ETCD_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT

# A quota above the default 2 GiB: the benchmark compacts after every point, but a 100 000-object
# backlog with its history is a few hundred MiB.
"$ETCD" --name bench --data-dir "$DATA/etcd" \
  --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
  --listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" --initial-cluster "bench=$PEER" \
  --quota-backend-bytes 8589934592 --log-level error >"$DATA/etcd.log" 2>&1 &
ETCD_PID=$!
log "etcd (pid $ETCD_PID) on $ENDPOINT, data in $DATA/etcd"

for _ in $(seq 1 300); do
  if python3 -c "import urllib.request,sys; sys.exit(0 if b'true' in urllib.request.urlopen('$ENDPOINT/health', timeout=1).read() else 1)" 2>/dev/null; then
    break
  fi
  kill -0 "$ETCD_PID" 2>/dev/null || { cat "$DATA/etcd.log" >&2; die "etcd exited"; }
  sleep 0.1
done

cargo run --quiet --release -p bosun --features etcd -- bench all --compare-etcd --etcd-endpoints "$ENDPOINT" --etcd-binary "$ETCD" \
  --svg "${BOSUN_BENCH_SVG:-docs/bench-watch.svg}" "$@"
