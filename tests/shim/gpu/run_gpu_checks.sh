#!/usr/bin/env bash
# Real-GPU checks of libxsched.so (run on the GPU machine from the repository root):
#   B=<build dir with lib/libxsched.so and bin/> OUT=<results dir> tests/shim/gpu/run_gpu_checks.sh
# 1. which entry points the shim intercepts on this driver (xsched-cuda-probe)
# 2. the correctness workload: same output natively, with the shim, and at window 1
# 3. launch cost of the pass-through path (launchbench), both ways of resolving the driver
# 4. online beside batch with real spin kernels: native vs batch at low priority, window 1
# 5. PyTorch: ResNet outputs and CUDA-graph replays bit-identical natively, with the shim and
#    at window 1; the commands the shim counted against CUPTI's over the same region
# SECTIONS="4 5" runs only those.
set -u
B=${B:?set B to the build directory}
OUT=${OUT:?set OUT to a results directory}
LIB=$B/lib/libxsched.so
export XSCHED_SHM=${XSCHED_SHM:-xs-gpu-check}
SECTIONS=${SECTIONS:-1 2 3 4 5}
# `env` execs the program itself, so that $! of a background run is the program's pid.
shim() { env LD_PRELOAD=$LIB "$@"; }
low1() { env LD_PRELOAD=$LIB XSCHED_PRIORITY=low XSCHED_WINDOW=1 "$@"; }
say() { printf '\n== %s\n' "$*"; }
# Stop a background run; a program that ignores SIGINT for 5 s is killed (and said so).
stop_bg() {
	kill -INT "$1"
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && { echo "pid $1 ignored SIGINT for 5 s: killed"; kill -KILL "$1"; }
	wait "$1"
}
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
rm -f /dev/shm/$XSCHED_SHM

say "device"; nvidia-smi -L; nvidia-smi --query-gpu=driver_version --format=csv,noheader

if want 1; then
say "1. interception coverage (driver's cuGetProcAddress_v2 at 12000 and 13000, and dlsym)"
for v in 12000 13000; do
	nm -D --defined-only "$LIB" | awk '$3 ~ /^cu/ {print $3}' |
		shim "$B/bin/xsched-cuda-probe" $v > "$OUT/probe_$v.jsonl"
	echo "exit $?: $(tail -1 "$OUT/probe_$v.jsonl")"
	grep -v '"getproc":"hook"' "$OUT/probe_$v.jsonl" | grep -v summary | grep -v '"dlsym":"absent","getproc":"absent"' | head -20
done

fi
if want 2; then
say "2. correctness workload"
for args in "" "--resolve dlsym" "--ptds --threads 6 --rounds 12" "--fork" "--graph-launches 16" "--expect-error"; do
	n=$("$B/bin/correctness" $args 2>&1 | grep '^{')
	s=$(shim "$B/bin/correctness" $args 2>/dev/null | grep '^{')
	w=$(low1 "$B/bin/correctness" $args 2>/dev/null | grep '^{')
	[ "$n" = "$s" ] && [ "$n" = "$w" ] && r=same || r=DIFFERENT
	echo "correctness $args: $r: $n"
	[ $r = same ] || printf '  shim: %s\n  w1:   %s\n' "$s" "$w"
done

fi
if want 3; then
say "3. launchbench (empty kernels, sync every 256), ns per launch, 3 runs each"
for res in getproc dlsym; do
	for mode in native shim; do
		v=""
		for i in 1 2 3; do
			if [ $mode = native ]; then
				j=$("$B/bin/launchbench" --resolve $res --launches 100000 2>/dev/null)
			else
				j=$(shim "$B/bin/launchbench" --resolve $res --launches 100000 2>/dev/null)
			fi
			v="$v $(echo "$j" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ns_per_launch"])')"
		done
		echo "$res $mode:$v"
	done
done

fi
if want 4; then
say "4. online (4 x 250 us kernels, 50 req/s) beside batch (100 x 200 us kernels per iteration)"
ON="$B/bin/online --rate 50 --duration 4 --kernels 4 --kernel-us 250"
BA="$B/bin/batch --duration 0 --kernel-us 200 --kernels-per-iter 100"
echo "solo:          $($ON)"
$BA > "$OUT/batch_native.json" & bp=$!; sleep 1
echo "native:        $($ON)"; stop_bg $bp; cat "$OUT/batch_native.json"
env LD_PRELOAD=$LIB XSCHED_PRIORITY=low XSCHED_WINDOW=1 $BA > "$OUT/batch_w1.json" 2>/dev/null & bp=$!; sleep 1
echo "shim low w1:   $(LD_PRELOAD=$LIB XSCHED_PRIORITY=high $ON 2>/dev/null)"; stop_bg $bp; cat "$OUT/batch_w1.json"
env LD_PRELOAD=$LIB XSCHED_PRIORITY=low XSCHED_WINDOW=4 $BA > "$OUT/batch_w4.json" 2>/dev/null & bp=$!; sleep 1
echo "shim low w4:   $(LD_PRELOAD=$LIB XSCHED_PRIORITY=high $ON 2>/dev/null)"; stop_bg $bp; cat "$OUT/batch_w4.json"

fi
if want 5; then
say "5. PyTorch"
export PYTHONUNBUFFERED=1
rm -f /dev/shm/$XSCHED_SHM
timeout 180 python3 tests/gpu/torch_check.py --profile > "$OUT/torch_native.json" 2>&1
shim timeout 180 python3 tests/gpu/torch_check.py --profile --testctl "$B/bin/xsched-testctl" > "$OUT/torch_shim.json" 2>&1
"$B/bin/xsched-testctl" --dump > "$OUT/torch_shim_dump.json"
low1 timeout 180 python3 tests/gpu/torch_check.py > "$OUT/torch_w1.json" 2>&1
cat "$OUT/torch_native.json" "$OUT/torch_shim.json" "$OUT/torch_w1.json"
timeout 180 python3 tests/shim/gpu/torch_graph_check.py > "$OUT/graph_native.json" 2>&1
shim timeout 180 python3 tests/shim/gpu/torch_graph_check.py > "$OUT/graph_shim.json" 2>&1
low1 timeout 180 python3 tests/shim/gpu/torch_graph_check.py > "$OUT/graph_w1.json" 2>&1
cat "$OUT/graph_native.json" "$OUT/graph_shim.json" "$OUT/graph_w1.json"

fi