#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs the default test suite
# (labels `default` and `mpi`). Extra arguments go to ctest (e.g. -L slow for the opt-in tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
export OMP_WAIT_POLICY=PASSIVE OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
build=${MINDGAP_BUILD:-build}
if [ $# -eq 0 ]; then set -- -L 'default|mpi'; fi
# Two tests at a time on the 2 cores; each uses one thread.
ctest --test-dir "$build" --output-on-failure -j 2 --timeout 600 "$@"
