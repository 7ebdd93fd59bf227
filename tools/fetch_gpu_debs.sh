#!/usr/bin/env bash
# Downloads (does not install) the Debian packages that tools/gpu_check.sh unpacks on a GPU
# machine that has PyTorch and the CUDA toolkit but no package registry: the build's -dev
# packages, their shared libraries and Open MPI's runtime libraries. Into .gpu_debs/ (ignored
# by git; about 10 MiB, under the 64 MiB that may travel with a GPU job).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.gpu_debs
packages=(
  # what the build finds with find_package / headers
  libyaml-cpp-dev libyaml-cpp0.7 libsentencepiece-dev libsentencepiece0
  libgtest-dev libgmock-dev googletest libcli11-dev nlohmann-json3-dev
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
  # Open MPI and the runtime libraries it links
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common
  libevent-core-2.1-7 libevent-pthreads-2.1-7 libfabric1 libhwloc15 libibverbs1 librdmacm1
  libnl-3-200 libnl-route-3-200 libpmix2 libpsm-infinipath1 libpsm2-2 libucx0
)
mkdir -p "$dest"
if ! apt-cache show libyaml-cpp0.7 >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
fi
# apt-get download writes into the current directory; _apt needs to be able to write there.
(cd "$dest" && chmod 777 . && apt-get download -q "${packages[@]}")
du -sh "$dest"
