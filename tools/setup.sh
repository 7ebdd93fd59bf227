#!/usr/bin/env bash
# Installs what mindgap needs on a fresh Debian machine, and reuses what is already there:
#  - Debian -dev packages (yaml-cpp, SentencePiece, Open MPI, gloo headers, GoogleTest, CLI11,
#    nlohmann-json, spdlog/fmt)
#  - the PyPI torch wheel (libtorch with its CMake config) in a venv cached outside the clone,
#    with matplotlib (gap.png) and transformers (the test of `mindgap export --format hf`).
# Prints the venv's python path on the last line of stdout.
set -euo pipefail

MINDGAP_CACHE=${MINDGAP_CACHE:-$HOME/.cache/mindgap}
VENV=$MINDGAP_CACHE/venv
TORCH_SPEC=${MINDGAP_TORCH_SPEC:-torch==2.15.0}
TRANSFORMERS_SPEC=${MINDGAP_TRANSFORMERS_SPEC:-transformers==5.23.0}

log() { echo "[setup] $*" >&2; }

debian_packages=(
  libyaml-cpp-dev libsentencepiece-dev sentencepiece libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgloo-dev libssl-dev zlib1g-dev pkg-config cmake g++ ccache
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
  log "creating $VENV with $TORCH_SPEC (about 5 GB, once)"
  mkdir -p "$MINDGAP_CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "$TORCH_SPEC" numpy >&2
fi
# matplotlib draws gap.png (tools/plot_gap.py).
if ! "$VENV/bin/python" -c 'import matplotlib' >/dev/null 2>&1; then
  log "installing matplotlib into $VENV"
  "$VENV/bin/pip" install -q matplotlib >&2
fi
# transformers loads `mindgap export --format hf` directories in tests/test_hf_export.cpp. It does
# not depend on torch, so pip leaves the venv's torch as it is.
if ! "$VENV/bin/python" -c 'import transformers, tokenizers, safetensors' >/dev/null 2>&1; then
  log "installing $TRANSFORMERS_SPEC into $VENV"
  "$VENV/bin/pip" install -q "$TRANSFORMERS_SPEC" >&2
fi
echo "$VENV/bin/python"
