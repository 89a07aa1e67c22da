#!/usr/bin/env bash
# A full run on an offline GPU host (see CONTRIBUTING.md), in the repository root of a copy of the working tree
# that holds offline-kit/ (python tools/offline_host.py pack made it). Installs the packed wheels into a
# scratch folder, points the data layer at the packed data, runs
#     python -m reproductions run TARGET... [run options] --backend BACKEND --output-dir offline-results
# and packs offline-results/ into the --into folder as parts of at most --part-size, with the log beside them.
#
#     bash tools/offline_run.sh --into DIR [--stop-after SECONDS] [--backend jax|torch] [--part-size 15m] TARGET...
#
# --stop-after ends the run after that many seconds (default: never), so that a host with a time limit per
# command still packs what finished; --part-size suits hosts that bring files back one size-limited file at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bash tools/offline_run.sh --into DIR [--stop-after SECONDS] [--backend jax|torch] [--part-size SIZE] TARGET... [run options]"
into="" stop_after="" backend="${KERAS_BACKEND:-jax}" part_size="15m"
while [ $# -gt 0 ]; do
    case "$1" in
        --into) into="${2:?--into needs a folder}"; shift 2 ;;
        --stop-after) stop_after="${2:?--stop-after needs a number of seconds}"; shift 2 ;;
        --backend) backend="${2:?--backend needs jax or torch}"; shift 2 ;;
        --part-size) part_size="${2:?--part-size needs a size such as 15m}"; shift 2 ;;
        *) break ;;
    esac
done
if [ -z "$into" ] || [ $# -eq 0 ]; then
    echo "offline_run: $usage" >&2
    exit 2
fi
case "$backend" in jax|torch) ;; *) echo "offline_run: --backend must be jax or torch, got '$backend'" >&2; exit 2 ;; esac
case "$stop_after" in ""|*[!0-9]*) [ -z "$stop_after" ] || { echo "offline_run: --stop-after must be a number of seconds, got '$stop_after'" >&2; exit 2; } ;; esac
if [ ! -d offline-kit/data ] || ! ls offline-kit/wheels/*.whl > /dev/null 2>&1; then
    echo "offline_run: no offline-kit/data or offline-kit/wheels: run python tools/offline_host.py pack first and copy offline-kit/ with the tree" >&2
    exit 2
fi
mkdir -p "$into"
site="$(mktemp -d)"
python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" offline-kit/wheels/*.whl
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export KERAS_BACKEND="$backend" ZOO_DATA_DIR="$PWD/offline-kit/data" ZOO_OFFLINE=1 MPLBACKEND=Agg PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # JAX takes GPU memory as it needs it
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$into/log.txt" || true
rm -rf offline-results
status=0
limit=()
[ -z "$stop_after" ] || limit=(timeout --signal=TERM "$stop_after")
${limit[@]+"${limit[@]}"} python3 -m reproductions run "$@" --backend "$backend" --output-dir offline-results 2>&1 \
    | tee -a "$into/log.txt" || status=$?
# Whatever finished is packed, also after a failure or the --stop-after limit.
if [ -d offline-results ]; then
    tar czf - offline-results | split -b "$part_size" -d -a 1 - "$into/offline-results.tgz.part-"
fi
ls -la "$into"
exit "$status"
