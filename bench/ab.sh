#!/bin/sh
# A/B of two builds of libnnpack on one layer, robust to a noisy shared machine: runs
# bench_probe against each library in turn (ABBA order, PAIRS times), takes the fastest
# call of each run, and reports the new/old ratio of every adjacent pair and their median.
# Slow drifts of the machine's speed (minutes) cancel within a pair.
#
#   bench/ab.sh OLD_LIB_DIR NEW_LIB_DIR PAIRS -- BENCH_PROBE_ARGS...
#   e.g. bench/ab.sh /tmp/old/build build 6 -- --strategy compute --threads 1 vgg.conv2_2
#
# Each *_LIB_DIR holds a libnnpack.so.0 (a build tree's top directory). BENCH_PROBE names
# the probe binary (default: build/bench/bench_probe next to this script's checkout).
set -eu
if [ $# -lt 4 ] || [ "$4" != "--" ]; then
  echo "usage: $0 OLD_LIB_DIR NEW_LIB_DIR PAIRS -- BENCH_PROBE_ARGS..." >&2
  exit 2
fi
old=$1 new=$2 pairs=$3
shift 4
probe=${BENCH_PROBE:-$(dirname "$0")/../build/bench/bench_probe}
for dir in "$old" "$new"; do
  [ -e "$dir/libnnpack.so.0" ] || { echo "$0: no libnnpack.so.0 in $dir" >&2; exit 2; }
done

fastest() {  # library dir, probe args: the "min" GFLOPS of one run
  dir=$1
  shift
  LD_LIBRARY_PATH=$dir "$probe" "$@" 2>/dev/null | sed -n 's/.* min \([0-9.]*\) .*/\1/p'
}

ratios=""
i=0
while [ "$i" -lt "$pairs" ]; do
  if [ $((i % 2)) -eq 0 ]; then
    a=$(fastest "$old" "$@") b=$(fastest "$new" "$@")
  else
    b=$(fastest "$new" "$@") a=$(fastest "$old" "$@")
  fi
  [ -n "$a" ] && [ -n "$b" ] || { echo "$0: bench_probe failed (args: $*)" >&2; exit 1; }
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
  echo "pair $((i + 1)): old $a new $b GFLOPS, new/old $r"
  ratios="$ratios $r"
  i=$((i + 1))
done
echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '
  { v[NR] = $1 }
  END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "median new/old %.3f (range %.3f .. %.3f, %d pairs)\n", m, v[1], v[NR], NR }'
