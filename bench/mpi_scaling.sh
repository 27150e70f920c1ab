#!/usr/bin/env bash
# MPI benchmark: one sweep of 8 equal, independent points (two-layer tanh network, Barlow
# Twins, 256 Fashion-MNIST images, width 4096, 40 steps, seeds 0..7), run with 1 and with 2 MPI
# ranks, each rank one point at a time on one BLAS thread (the default, spelled out with
# OPENBLAS_NUM_THREADS=1), in the same invocation. Prints the
# wall times and their ratio, checks that both runs wrote the same metrics.csv, and writes the
# table to results/bench/mpi-<time>.md. Installs Open MPI and builds ntkssl-mpi as needed.
# About 2 minutes on 2 cores.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh"
NTKSSL_PACKAGES+=("${NTKSSL_MPI_PACKAGES[@]}")
ntkssl_install_packages
ntkssl_configure_and_build -DNTKSSL_MPI=ON

exe="$NTKSSL_BUILD/bin/ntkssl-mpi"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out_dir="$NTKSSL_ROOT/results/bench"
mkdir -p "$out_dir"
report="$out_dir/mpi-$(date -u +%Y%m%d-%H%M%S).md"
sets=(--set dataset.subset=256 --set train.steps=40 --set architecture.width=4096 --set 'sweep.architecture.width=[4096]'
      --set 'sweep.pipeline.seed=[0,1,2,3,4,5,6,7]' --set report.plots=false)
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)

declare -A seconds
for ranks in 1 2; do
  start=$(date +%s.%N)
  OPENBLAS_NUM_THREADS=1 "${mpi[@]}" -n "$ranks" "$exe" run "$NTKSSL_ROOT/pipelines/bt_ntk_constancy.toml" --out "$work/r$ranks" --jobs 1 --quiet "${sets[@]}" >/dev/null
  end=$(date +%s.%N)
  seconds[$ranks]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  echo "ranks $ranks: ${seconds[$ranks]} s" >&2
done
same=no
cmp -s "$work/r1/metrics.csv" "$work/r2/metrics.csv" && same=yes
ratio=$(awk -v a="${seconds[1]}" -v b="${seconds[2]}" 'BEGIN { printf "%.3f", b / a }')
{
  echo "# MPI: one sweep of 8 independent points on 1 and 2 ranks"
  echo
  echo "| ranks | wall time (s) | time / time with 1 rank |"
  echo "| ---: | ---: | ---: |"
  printf "| 1 | %.1f | 1.00 |\n" "${seconds[1]}"
  printf "| 2 | %.1f | %.2f |\n" "${seconds[2]}" "$ratio"
  echo
  echo "Same machine, same invocation; each rank runs one point at a time on one BLAS thread (--jobs 1)."
  echo "Points: bt_ntk_constancy at width 4096, 256 images, 40 steps, seeds 0..7. Identical metrics.csv: $same."
  echo "Perfect scaling is 0.50; the rest is start-up (every rank loads the plugins and the data) and the last point's tail."
} > "$report"
cat "$report"
echo
echo "written to $report"
[ "$same" = yes ]
