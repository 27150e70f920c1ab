#!/usr/bin/env bash
# Shared set-up of the two README commands: install the Debian packages ntkssl needs (only
# those missing, so a second run does nothing), then configure and build in ./build.
# Sourced by scripts/quickstart.sh and scripts/test.sh; safe to run any number of times.
set -euo pipefail

NTKSSL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NTKSSL_BUILD="${NTKSSL_BUILD:-$NTKSSL_ROOT/build}"
NTKSSL_PREFIX="${NTKSSL_PREFIX:-$NTKSSL_ROOT/_install}"

# Build tools and libraries, all from Debian 12. Why each library is here: README.md.
NTKSSL_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-filesystem-dev
  libxtensor-dev libxtensor-blas-dev libxsimd-dev xtl-dev libopenblas-dev
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev doctest-dev zlib1g-dev
  dataset-fashion-mnist gnuplot-nox
)

ntkssl_install_packages() {
  local missing=()
  for p in "${NTKSSL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "ntkssl: installing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "ntkssl: these packages are missing and this user cannot install them: ${missing[*]}" >&2
      echo "ntkssl: run as root, or install them first: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Extra arguments go to cmake's configure step (e.g. -DNTKSSL_MPI=ON).
ntkssl_configure_and_build() {
  cmake -S "$NTKSSL_ROOT" -B "$NTKSSL_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$NTKSSL_PREFIX" "$@" >/dev/null
  cmake --build "$NTKSSL_BUILD" -j "$(nproc)"
}

# What -DNTKSSL_MPI=ON (the ntkssl-mpi executable, docs/scaling.md) needs from Debian.
NTKSSL_MPI_PACKAGES=(openmpi-bin libopenmpi-dev)
