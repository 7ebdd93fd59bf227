#!/usr/bin/env bash
# Installs what is missing (tools/setup.sh), configures and builds into build/ (or $MINDGAP_BUILD).
# Extra arguments go to `cmake --build` (e.g. --target test_recipe).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash tools/setup.sh | tail -n 1)
build=${MINDGAP_BUILD:-build}
# Paths relative to the checkout, so that a fresh clone hits the cache of an earlier one.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mindgap/ccache}
# PCH-aware ccache settings: the precompiled header is reused across targets.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
# Configure every time (a few seconds): new files and targets are picked up before the build.
cmake -S . -B "$build" -DMINDGAP_PYTHON="$python" ${MINDGAP_CMAKE_ARGS:-} > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
# 2 jobs at most: one torch-including file takes ~1.8 GB of compiler memory.
cmake --build "$build" -j "${MINDGAP_JOBS:-2}" "$@" >&2
