#!/bin/sh
# Two-thread scaling of one layer, told apart from the speed of each core: runs bench_probe
# on CPU 0 alone, on CPU 1 alone and on two threads, ROUNDS times in turn, and prints the
# fastest call of each (best of the rounds) with two ratios:
#   2T/best  two threads against the faster single core (what a "2T >= 1.8x 1T" target reads)
#   2T/sum   two threads against the sum of the two cores run alone: the parallel efficiency.
# On a machine whose two vCPUs run at different speeds, 2T/best is at most 1 + slow/fast
# even with perfect scaling; 2T/sum tells the library's loss from the machine's.
#
#   bench/scaling.sh [ROUNDS] -- BENCH_PROBE_ARGS...   (without --threads)
#   e.g. bench/scaling.sh 3 -- --strategy reuse vgg.conv2_2
set -eu
rounds=3
if [ $# -ge 1 ] && [ "$1" != "--" ]; then rounds=$1; shift; fi
[ $# -ge 2 ] && [ "$1" = "--" ] || { echo "usage: $0 [ROUNDS] -- BENCH_PROBE_ARGS..." >&2; exit 2; }
shift
probe=${BENCH_PROBE:-$(dirname "$0")/../build/bench/bench_probe}

fastest() {  # taskset CPU list, threads, probe args: the "min" GFLOPS of one run
  cpus=$1 threads=$2
  shift 2
  taskset -c "$cpus" "$probe" --threads "$threads" "$@" 2>/dev/null | sed -n 's/.* min \([0-9.]*\) .*/\1/p'
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }

cpu0=0 cpu1=0 both=0
i=0
while [ "$i" -lt "$rounds" ]; do
  a=$(fastest 0 1 "$@") b=$(fastest 1 1 "$@") c=$(fastest 0,1 2 "$@")
  [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] || { echo "$0: bench_probe failed (args: $*)" >&2; exit 1; }
  cpu0=$(max "$cpu0" "$a") cpu1=$(max "$cpu1" "$b") both=$(max "$both" "$c")
  i=$((i + 1))
done
awk -v args="$*" -v x="$cpu0" -v y="$cpu1" -v z="$both" 'BEGIN {
  best = (x > y) ? x : y
  printf "%s: cpu0 %s cpu1 %s 2T %s GFLOPS, 2T/best %.2f, 2T/sum %.2f\n", args, x, y, z, z / best, z / (x + y)
}'
