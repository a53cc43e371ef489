#!/usr/bin/env bash
# One entry point for the real-GPU benchmarks, sized to fit one device call (10 minutes).
# Writes JSON and markdown tables under $OUT (default ./bench-out).
#
# usage: bench/run.sh [--build DIR] [--duration S] CASE...
#   overhead     shim cost on an unthrottled service and batch job (bench/overhead.py)
#   seeds        ResNet-18 bs1 @20 req/s beside one ResNet-50 bs1024, time-slicing:
#                native, static windows 1 2 4 8, controller at 1.3x solo P99
#   seeds-ctl    the same, native and the controller only
#   seeds-mps    the same under MPS, with MPS client priority and a 10 ms target
#   three-jobs   beside three ResNet-50 bs256 jobs, time-slicing: native, controller at 6 ms
#   spike        the service steps from 20 to 100 req/s mid-run: native and controller
#   observe      the eBPF observer's view of a service against the app and the shim, and its cost
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
duration=10
cases=()
while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	overhead | seeds | seeds-ctl | seeds-mps | three-jobs | spike | observe) cases+=("$1"); shift ;;
	*) echo "bench/run.sh: bad argument '$1': want --build DIR, --duration S, overhead, seeds, seeds-mps, three-jobs, spike or observe" >&2; exit 2 ;;
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

h() { python3 bench/harness.py --build "$build" --out "$out" --duration "$duration" "$@"; }
# A failing case is reported and the others still run.
set +e
for c in "${cases[@]}"; do
	echo "== $c"
	case $c in
	overhead) python3 bench/overhead.py --build "$build" --out "$out" --duration "$duration" ;;
	seeds) h --name seeds --configs native,shim-w1,shim-w2,shim-w4,shim-w8,ctl-x1.3 ;;
	seeds-ctl) h --name seeds-ctl --configs native,ctl-x1.3 ;;
	seeds-mps) h --name seeds-mps \
		--configs mps,mps-prio,mps-shim-w1,mps-shim-w2,mps-shim-w4,mps-shim-w8,mps-ctl-10ms,mps-ctl-x1.3 ;;
	three-jobs) h --name three-jobs --batch-jobs 3 --batch-size 256 --configs native,ctl-6ms ;;
	spike) h --name spike --rate-step 5:100 --configs native,ctl-x1.5 ;;
	observe) python3 bench/observe_check.py --build "$build" --out "$out" ;;
	esac
done

# Plots beside each result, where matplotlib is installed (it is on the GPU machines' image).
if python3 -c 'import matplotlib' 2>/dev/null; then
	for j in "$out"/*.json; do
		case $j in */overhead.json | */observe.json) continue ;; esac
		python3 bench/plots.py "$j" || echo "bench/run.sh: no plots for $j"
	done
fi
