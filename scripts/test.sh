#!/usr/bin/env bash
# README command 2 (and CI's): set up, build everything, and run the whole test suite through
# ctest; then the MPI build and its tests (mpirun on loopback); then fuzz the file readers, the
# pipeline parser and the plugin descriptor checks for a bounded time; then build and run the
# whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer. Any failure, finding
# or sanitizer report fails the command. About 13 minutes on 2 cores.
#   NTKSSL_MPI_STAGE=1       the MPI stage (0: skip it)
#   NTKSSL_FUZZ_SECONDS=60   seconds per fuzz target (0: skip the fuzz stage)
#   NTKSSL_SANITIZE=1        the sanitizer stage (0: skip it)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
fuzz_seconds="${NTKSSL_FUZZ_SECONDS:-60}"
sanitize="${NTKSSL_SANITIZE:-1}"
mpi_stage="${NTKSSL_MPI_STAGE:-1}"
mpi_option=-DNTKSSL_MPI=OFF
if [ "$mpi_stage" != "0" ]; then
  NTKSSL_PACKAGES+=("${NTKSSL_MPI_PACKAGES[@]}")
  mpi_option=-DNTKSSL_MPI=ON  # adds ntkssl-mpi and its tests; ntkssl itself is the same either way
fi

ntkssl_install_packages
ntkssl_configure_and_build "$mpi_option"
echo "== stage 1: test suite"
(cd "$NTKSSL_BUILD" && ctest --output-on-failure -j "$(nproc)" -LE mpi)

if [ "$mpi_stage" != "0" ]; then
  echo "== stage 2: ntkssl-mpi, sweeps across ranks on loopback (mpirun)"
  (cd "$NTKSSL_BUILD" && ctest --output-on-failure -L mpi)
fi

if [ "$fuzz_seconds" != "0" ]; then
  echo "== stage 3: fuzzing (file readers, pipelines, plugin descriptors), ${fuzz_seconds}s per target"
  "$NTKSSL_ROOT/fuzz/run.sh" "$fuzz_seconds"
fi

if [ "$sanitize" != "0" ]; then
  echo "== stage 4: test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  # -O1 (measured on 2 cores: build 135 s + suite 285 s, against 90 s + 487 s at -O0; -O2 -g
  # compiles this template-heavy code about 7× slower than -O0, too slow for CI).
  cmake -S "$NTKSSL_ROOT" -B "$NTKSSL_ROOT/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O1 \
    -DNTKSSL_SANITIZE=ON -DNTKSSL_BUILD_BENCH=OFF -DNTKSSL_MPI=OFF >/dev/null
  cmake --build "$NTKSSL_ROOT/build-asan" -j "$(nproc)"
  (cd "$NTKSSL_ROOT/build-asan" && ctest --output-on-failure -j "$(nproc)" --timeout 900)
fi
