#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the tiny addition
# recipe (pretrain, then self-improvement rounds with the gap printed per round). On the CPU
# when there is no GPU. Extra arguments are recipe overrides (key=value).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh --target mindgap
exec "${MINDGAP_BUILD:-build}/mindgap" run recipes/tiny_addition.yaml "$@"
