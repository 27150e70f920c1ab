#!/usr/bin/env bash
# Builds the fuzz targets with clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# — the file readers (idx, npy, csv), pipeline validation (TOML++ compiled in, header-only, so
# it is instrumented too) and the plugin descriptor checks — and runs each for SECONDS (default
# 60) from its seed corpus in fuzz/corpus/<target>/, as many at once as there are cores.
# A crash stops the run with the reproducer saved as fuzz/crash-<target>-*; exit status 1.
#   ./fuzz/run.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
need=(clang libclang-rt-14-dev zlib1g-dev libxtensor-dev xtl-dev libtomlplusplus-dev)
missing=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; fi

out="$root/build-fuzz"
mkdir -p "$out"
version_header="$out/include/ntkssl/version.hpp"
mkdir -p "$(dirname "$version_header")"
sed -e 's/@PROJECT_VERSION@/fuzz/' -e 's/@PROJECT_VERSION_MAJOR@/0/' -e 's/@PROJECT_VERSION_MINOR@/0/' -e 's/@PROJECT_VERSION_PATCH@/0/' \
  "$root/sdk/include/ntkssl/version.hpp.in" > "$version_header"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/sdk/include" -I"$out/include" -I"$root/plugins/datasets/files" -I"$root/core/include")
targets=(idx npy csv pipeline descriptor)
for target in idx npy csv; do
  clang++ "${flags[@]}" "$root/fuzz/${target}_fuzz.cpp" "$root/plugins/datasets/files/readers.cpp" \
    "$root/sdk/src/errors.cpp" -lz -o "$out/${target}_fuzz"
done
# TOML++'s internal debug assertions are switched off as in the Debian library ntkssl links
# (NDEBUG, GCC: its "assume" checks compile to nothing); its TOML_UNREACHABLE paths stay
# undefined behaviour and UBSan reports them. ntkssl guards the ones malformed input can reach.
clang++ "${flags[@]}" "$root/fuzz/pipeline_fuzz.cpp" "$root/core/src/pipeline.cpp" "$root/core/src/toml_guard.cpp" "$root/core/src/metrics.cpp" \
  "$root/sdk/src/config.cpp" "$root/sdk/src/errors.cpp" '-DTOML_ASSERT(expr)=((void)0)' -o "$out/pipeline_fuzz"
clang++ "${flags[@]}" "$root/fuzz/descriptor_fuzz.cpp" "$root/core/src/descriptor.cpp" "$root/sdk/src/errors.cpp" \
  -o "$out/descriptor_fuzz"
# Each target is one process; as many run at once as there are cores.
fuzz_one() {
  local target=$1 corpus="$out/corpus-$1"
  mkdir -p "$corpus"
  cp -n "$root/fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
  "$out/${target}_fuzz" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$root/fuzz/crash-$target-" -print_final_stats=1 2>"$out/$target.log"
}
status=0
jobs_max=$(nproc)
declare -A pids
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
  echo "fuzz: $target for ${seconds}s"
  fuzz_one "$target" &
  pids[$target]=$!
done
for target in "${targets[@]}"; do
  if ! wait "${pids[$target]}"; then
    echo "fuzz: $target FOUND A CRASH; see $out/$target.log and fuzz/crash-$target-*" >&2
    tail -40 "$out/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$target.log" | sed "s/^/fuzz: $target /"
  fi
done
exit $status
