#!/usr/bin/env bash
# One entry point for the real-GPU benchmarks, sized to fit one device call (10 minutes).
# Writes JSON and markdown tables under $OUT (default ./bench-out).
#
# usage: bench/run.sh [--build DIR] [--duration S] [--repeat N] CASE...
#   overhead     shim cost on an unthrottled service and batch job (bench/overhead.py)
#   seeds        ResNet-18 bs1 @20 req/s beside one ResNet-50 bs1024, time-slicing:
#                native, static windows 1 2 4 8, controller at 1.3x solo P99
#   seeds-ctl    the same, native and the controller only
#   seeds-mps    the same under MPS: MPS client priority, static windows, targets 10 ms,
#                1.3x and 1.1x solo P99
#   mps-ctl      under MPS, the native knob against the controller only: MPS client priority,
#                targets 10 ms, 1.3x and 1.1x
#   three-jobs   beside three ResNet-50 bs256 jobs, time-slicing: native, targets 6 ms, 1.2x,
#                6 ms with --turns off
#   three-jobs-mps  the same under MPS: MPS client priority, target 1.1x
#   spike        the service steps from 20 to 100 req/s mid-run: native and controller
#   spike-mps    the same under MPS: MPS client priority and the controller
#   sweep        C workloads, batch kernel sizes 50 us .. 40 ms: native, window 1, controller
#   sweep-mps    the same under MPS
#   observe      the eBPF observer's view of a service against the app and the shim, and its cost
#   burst-view   the shim's burst latencies against the service's own, alone and beside one
#                ResNet-50 bs1024 job under MPS (bench/burst_view.py; --duration at most 20)
# --repeat N runs each harness case's configurations N times (round-robin) and reports whether
# their P99s agree within 15%.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
duration=10
repeat=1
cases=()
while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	overhead | seeds | seeds-ctl | seeds-mps | mps-ctl | three-jobs | three-jobs-mps | spike | \
		spike-mps | sweep | sweep-mps | observe | burst-view) cases+=("$1"); shift ;;
	*) echo "bench/run.sh: bad argument '$1': want --build DIR, --duration S, --repeat N or a case: overhead, seeds, seeds-ctl, seeds-mps, mps-ctl, three-jobs, three-jobs-mps, spike, spike-mps, sweep, sweep-mps, observe, burst-view" >&2; exit 2 ;;
	esac
done
((${#cases[@]})) || { echo "bench/run.sh: name at least one case" >&2; exit 2; }
out=${OUT:-bench-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
{
	nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
	python3 -c 'import torch; print("torch", torch.__version__)'
	date -u +%FT%TZ
} | tee "$out/machine.txt"

h() { python3 bench/harness.py --build "$build" --out "$out" --duration "$duration" --repeat "$repeat" "$@"; }
# A failing case is reported and the others still run.
set +e
for c in "${cases[@]}"; do
	echo "== $c"
	case $c in
	overhead) python3 bench/overhead.py --build "$build" --out "$out" --duration "$duration" ;;
	seeds) h --name seeds --configs native,shim-w1,shim-w2,shim-w4,shim-w8,ctl-x1.3 ;;
	seeds-ctl) h --name seeds-ctl --configs native,ctl-x1.3 ;;
	seeds-mps) h --name seeds-mps --configs \
		mps,mps-prio,mps-shim-w1,mps-shim-w2,mps-shim-w4,mps-shim-w8,mps-ctl-10ms,mps-ctl-x1.3,mps-ctl-x1.1 ;;
	mps-ctl) h --name mps-ctl --configs mps,mps-prio,mps-ctl-10ms,mps-ctl-x1.3,mps-ctl-x1.1 ;;
	three-jobs) h --name three-jobs --batch-jobs 3 --batch-size 256 \
		--configs native,ctl-6ms,ctl-x1.2,ctl-6ms-noturns ;;
	three-jobs-mps) h --name three-jobs-mps --batch-jobs 3 --batch-size 256 \
		--configs mps,mps-prio,mps-ctl-x1.1 ;;
	spike) h --name spike --rate-step 5:100 --configs native,ctl-x1.5 ;;
	spike-mps) h --name spike-mps --rate-step 5:100 --configs mps-prio,mps-ctl-x1.3 ;;
	sweep) python3 bench/sweep.py --build "$build" --out "$out" ;;
	sweep-mps) python3 bench/sweep.py --build "$build" --out "$out" --mps ;;
	observe) python3 bench/observe_check.py --build "$build" --out "$out" ;;
	burst-view)
		for b in 0 1; do
			python3 bench/burst_view.py --build "$build" --duration "$duration" --beside "$b" \
				>"$out/burst-view-$b.txt" && grep -v '^{' "$out/burst-view-$b.txt"
		done ;;
	esac
done

# Plots beside each result, where matplotlib is installed (it is on the GPU machines' image).
if python3 -c 'import matplotlib' 2>/dev/null; then
	for j in "$out"/*.json; do
		case $j in */overhead.json | */observe.json | */sweep*.json) continue ;; esac
		python3 bench/plots.py "$j" || echo "bench/run.sh: no plots for $j"
	done
fi
