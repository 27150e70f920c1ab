#!/usr/bin/env bash
# README command 1: set up, build, install into ./_install, and run pipelines/quickstart.toml.
# Each run writes a new results/quickstart-<time> directory (results are never overwritten)
# and points results/quickstart-latest at it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

ntkssl_install_packages
ntkssl_configure_and_build
cmake --install "$NTKSSL_BUILD" >/dev/null

out="$NTKSSL_ROOT/results/quickstart-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$NTKSSL_ROOT/results"
status=0
"$NTKSSL_PREFIX/bin/ntkssl" run "$NTKSSL_ROOT/pipelines/quickstart.toml" --out "$out" --check || status=$?
ln -sfn "$(basename "$out")" "$NTKSSL_ROOT/results/quickstart-latest"
echo
echo "The results are in $out (also results/quickstart-latest):"
echo "  summary.json   the log-log slope of each metric in width, with its interval and verdict"
echo "  metrics.csv    every measurement: point, width, seed, step, t, metric, value"
echo "  manifest.json  the resolved pipeline, plugins, machine and the state of every point"
exit $status
