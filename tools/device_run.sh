#!/usr/bin/env bash
# A full run on a lent GPU machine (see DEVELOPERS.md): run there, in the repository root, with .device/ carried
# (python tools/device_kit.py prepare made it here). Installs the carried wheels, points the data layer at the
# carried data, runs `python -m reproductions run TARGET... [options]` on JAX (KERAS_BACKEND=torch for PyTorch)
# into device-results/, and packs that folder into $OUT as parts of at most 15 MiB, with the log beside them.
# The run itself stops after RUN_SECONDS (default 540), inside the call's 600-second limit, so that what it
# finished is packed and comes back.
#     RUN_SECONDS=540 bash tools/device_run.sh residual.degradation landscape.resnet_vs_plain
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?OUT is not set: this script runs on the device machine, whose OUT folder comes back}"
if [ ! -d .device/data ] || ! ls .device/wheels/*.whl > /dev/null 2>&1; then
    echo "device_run: no .device/data or .device/wheels: run python tools/device_kit.py prepare here and carry .device" >&2
    exit 2
fi
python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .device/wheels/*.whl
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export KERAS_BACKEND="${KERAS_BACKEND:-jax}" ZOO_DATA_DIR="$PWD/.device/data" ZOO_OFFLINE=1 MPLBACKEND=Agg PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # JAX takes GPU memory as it needs it
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/log.txt" || true
rm -rf device-results
status=0
timeout --signal=TERM "${RUN_SECONDS:-540}" python3 -m reproductions run "$@" --backend "$KERAS_BACKEND" \
    --output-dir device-results 2>&1 | tee -a "$OUT/log.txt" || status=$?
# Whatever finished comes back, also after a failure or the time limit's kill of the run above.
if [ -d device-results ]; then
    tar czf - device-results | split -b 15m -d -a 1 - "$OUT/device-results.tgz.part-"
fi
ls -la "$OUT"
exit "$status"
