#!/usr/bin/env bash
# Builds mindgap on a GPU machine that has PyTorch, the CUDA toolkit, CMake and a compiler but
# no package registry, runs the default test suite (the GPU tests run there instead of
# skipping) and the kernel benchmark, and writes logs and a summary under $OUT.
#
# Run from the repository root, with the Debian packages downloaded beforehand into .gpu_debs/
# by tools/fetch_gpu_debs.sh (they travel with the job). They are unpacked with `dpkg -x` into
# a private prefix (never into /), and CMake is pointed at it and at that machine's torch.
# Open MPI is off by default (the GPU checks need none; the relocated wrappers are not worth
# the risk): MINDGAP_GPU_MPI=ON tries it, with OPAL_PREFIX set to the private prefix.
# Environment: OUT (default ./gpu_out), MINDGAP_GPU_PREFIX (default /tmp/mindgap-gpu-prefix),
# MINDGAP_GPU_BUILD (default build-gpu), MINDGAP_GPU_JOBS (default 16), CUDA_ARCH (default 90).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
prefix=${MINDGAP_GPU_PREFIX:-/tmp/mindgap-gpu-prefix}
build=${MINDGAP_GPU_BUILD:-build-gpu}
jobs=${MINDGAP_GPU_JOBS:-16}
arch=${CUDA_ARCH:-90}
mkdir -p "$OUT"
summary=$OUT/summary.md
status() { echo "| $1 | $2 |" >>"$summary"; }
echo "# mindgap GPU check" >"$summary"
{
  echo
  echo '```'
  nvidia-smi -L 2>&1 || echo "nvidia-smi not found"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available())' 2>&1
  nvcc --version 2>&1 | tail -n 1
  cmake --version 2>&1 | head -n 1
  echo '```'
  echo
  echo "| step | result |"
  echo "|---|---|"
} >>"$summary"

# 1. The carried Debian packages, unpacked into the private prefix.
if ! ls .gpu_debs/*.deb >/dev/null 2>&1; then
  status unpack "FAILED: no .gpu_debs/*.deb (run tools/fetch_gpu_debs.sh first and carry .gpu_debs)"
  exit 1
fi
mkdir -p "$prefix"
for deb in .gpu_debs/*.deb; do
  if command -v dpkg >/dev/null; then
    dpkg -x "$deb" "$prefix"
  else  # no dpkg: a .deb is an ar archive holding data.tar.*
    (tmp=$(mktemp -d) && cd "$tmp" && ar x "$OLDPWD/$deb" && tar -xf data.tar.* -C "$prefix" && rm -rf "$tmp")
  fi || { status unpack "FAILED on $deb"; exit 1; }
done
libdir=$prefix/usr/lib/x86_64-linux-gnu
# .pc files name prefix=/usr: point them at the private prefix.
sed -i "s|^prefix=.*|prefix=$prefix/usr|" "$libdir"/pkgconfig/*.pc 2>/dev/null
export PKG_CONFIG_PATH=$libdir/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$libdir:$libdir/openmpi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OPAL_PREFIX=$prefix/usr PATH=$PATH:$prefix/usr/bin
status unpack "ok: $(ls .gpu_debs/*.deb | wc -l) packages into $prefix"

# 2. Configure against this machine's torch.
python=$(command -v python3)
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$(echo "$arch" | sed 's/\(.\)$/.\1/')}
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
if ! cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DMINDGAP_PYTHON="$python" \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DMINDGAP_CUDA=ON -DMINDGAP_MPI="${MINDGAP_GPU_MPI:-OFF}" \
    -DCMAKE_PREFIX_PATH="$prefix/usr;$torch_prefix" -DCMAKE_INCLUDE_PATH="$prefix/usr/include" \
    -DCMAKE_LIBRARY_PATH="$libdir" >"$OUT/configure.log" 2>&1; then
  status configure "FAILED (configure.log)"
  exit 1
fi
status configure ok

# 3. Build everything.
start=$(date +%s)
if ! cmake --build "$build" -j "$jobs" >"$OUT/build.log" 2>&1; then
  status build "FAILED (build.log)"
  tail -n 60 "$OUT/build.log" >&2
  exit 1
fi
status build "ok in $(( $(date +%s) - start )) s"

# 4. The default tests: on a GPU the CUDA tests run and compare the kernels with their CPU twins.
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1
ctest --test-dir "$build" -L default --output-on-failure -j 4 --timeout 600 >"$OUT/ctest.log" 2>&1
rc_tests=$?
status "tests (ctest -L default)" "$(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -n 1) (ctest.log)"
# The kernel tests again, for the record of what ran (ctest counts a skipped gtest as passed).
for t in test_sampling test_logprob test_decode_graph; do
  [ -x "$build/tests/$t" ] && "$build/tests/$t" >>"$OUT/kernel_tests.log" 2>&1
done
gpu_runs=$(grep -cE '^\[       OK \] (SamplingCuda|LogprobCuda|DecodeGraph\.CapturedSteps)' "$OUT/kernel_tests.log")
gpu_skips=$(grep -cE '^\[  SKIPPED \] (SamplingCuda\.|LogprobCuda\.|DecodeGraph\.CapturedSteps)[A-Za-z]* \(' "$OUT/kernel_tests.log")
status "kernel GPU tests" "$gpu_runs passed on the GPU, $gpu_skips skipped (kernel_tests.log)"

# 5. The benchmark table.
if "$build/bench_kernels" >"$OUT/bench.txt" 2>&1; then
  status bench_kernels "ok (bench.txt)"
else
  status bench_kernels "FAILED (bench.txt)"
fi
{ echo; echo "## bench_kernels"; echo; cat "$OUT/bench.txt"; } >>"$summary"
# The decoding step captured in a CUDA graph against the modules, alternated.
if "$build/bench_decode_gpu" >"$OUT/bench_decode_gpu.txt" 2>&1; then
  status bench_decode_gpu "ok (bench_decode_gpu.txt)"
else
  status bench_decode_gpu "FAILED (bench_decode_gpu.txt)"
fi
{ echo; echo "## bench_decode_gpu"; echo; cat "$OUT/bench_decode_gpu.txt"; } >>"$summary"
cat "$summary"
exit $rc_tests
