#!/usr/bin/env bash
# README command 2: set up, build everything, and run the whole test suite through ctest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

ntkssl_install_packages
ntkssl_configure_and_build
cd "$NTKSSL_BUILD"
ctest --output-on-failure -j "$(nproc)"
