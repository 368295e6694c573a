#!/usr/bin/env bash
# Fetch every external tool Bosun's tests and benchmarks need into <repo>/.tools.
# Runs all fetchers even if one fails, so a single run reports every problem.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
failed=()

for tool in kubectl etcd protoc python-client; do
  echo "fetch-tools: == $tool ==" >&2
  if ! bash "$HERE/fetch-$tool.sh"; then
    echo "fetch-tools: FAILED: $tool (see the fetch-$tool: messages above)" >&2
    failed+=("$tool")
  fi
done

if ((${#failed[@]})); then
  echo "fetch-tools: ${#failed[@]} tool(s) failed: ${failed[*]}." >&2
  echo "fetch-tools: fix the cause reported above, then re-run 'bash scripts/fetch-<tool>.sh' (or this script; finished tools are skipped)." >&2
  exit 1
fi
echo "fetch-tools: all tools ready in $(dirname "$HERE")/.tools" >&2
