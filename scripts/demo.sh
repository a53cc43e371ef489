#!/usr/bin/env bash
# make demo: an online service (high priority) beside a batch job (low priority), first
# natively, then under xsched with the controller holding a P99 target, with the controller's
# status view printed while it runs. On the real GPU when there is one (PyTorch ResNet-18
# service beside a ResNet-50 batch job), on the simulated GPU otherwise.
#
# usage: scripts/demo.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-15}
bin=$build/bin
cd "$(dirname "$0")/.."

real_gpu() {
	command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 &&
		python3 -c 'import torch, torchvision; assert torch.cuda.is_available()' 2>/dev/null
}

if real_gpu; then
	echo "== real GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
	target=${XSCHED_DEMO_TARGET:-10ms}
	online=(python3 tests/gpu/torch_online.py --rate 20 --duration "$secs")
	batch=(python3 tests/gpu/torch_batch.py --batch 1024 --duration 0)
	export XSCHED_SHM=xsched-demo
else
	echo "== no GPU here: the simulated GPU (tests/sim), one FIFO hardware queue as on AMD"
	target=${XSCHED_DEMO_TARGET:-}
	online=("$bin/online" --rate 20 --kernels 10 --kernel-us 100 --duration "$secs")
	# The simulated GPU's "kernels" are the batch process's own sleeps and wake-ups: at nice 19
	# its CPU time does not land in the service's latency on a small machine.
	batch=(nice -n 19 "$bin/batch" --kernel-us 200 --kernels-per-iter 100 --duration 0)
	export LD_LIBRARY_PATH=$build/sim/lib XSCHED_SIM_NAME=xsched-demo-gpu XSCHED_SHM=xsched-demo
	"$bin/simgpu" create --mode fifo >/dev/null
	trap '"$bin/simgpu" destroy >/dev/null 2>&1 || true' EXIT
fi

json() { grep '^{' | tail -1; }
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])[sys.argv[2]], 2))" "$1" "$2"; }

# Starts the batch job in the background (as $bpid) and waits until it is running.
start_batch() {
	"$@" >/tmp/xsched-demo-batch.$$ 2>&1 &
	bpid=$!
	sleep "${XSCHED_DEMO_SETTLE:-1}"
	if [[ ${batch[0]} == python3 ]]; then
		until grep -q '^ready' /tmp/xsched-demo-batch.$$ || ! kill -0 $bpid 2>/dev/null; do sleep 0.5; done
	fi
}
# Stops it; its JSON line in $bres.
stop_batch() {
	kill -INT $bpid
	wait $bpid || true
	bres=$(json </tmp/xsched-demo-batch.$$)
	rm -f /tmp/xsched-demo-batch.$$
}
rate_of() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(round(d.get('images_per_s', d.get('iters_per_s', 0)), 1))" "$1"; }

echo "== 1. the service alone"
solo=$("${online[@]}" | json)
echo "   P99 $(field "$solo" p99_ms) ms"
# Without a target given, hold twice the solo P99 (at least 3 ms): the simulated GPU's own
# noise floor depends on the machine it runs on.
if [[ -z $target ]]; then
	target=$(python3 -c "import json,sys; print(max(3000, round(2000 * json.loads(sys.argv[1])['p99_ms'])))" "$solo")us
fi

echo "== 2. beside the batch job, natively"
start_batch "${batch[@]}"
mixed=$("${online[@]}" | json)
stop_batch
nb=$bres
echo "   P99 $(field "$mixed" p99_ms) ms, batch $(rate_of "$nb")/s"

echo "== 3. under xsched: xsched-ctl --p99-target $target"
"$bin/xsched-ctl" --p99-target "$target" --no-ebpf >/tmp/xsched-demo-ctl.$$ 2>&1 &
cpid=$!
sleep 0.5
start_batch "$bin/xsched-run" --priority low -- "${batch[@]}"
"$bin/xsched-run" --priority high -- "${online[@]}" >/tmp/xsched-demo-online.$$ 2>&1 &
opid=$!
while kill -0 $opid 2>/dev/null; do
	sleep 2
	kill -0 $opid 2>/dev/null && { echo "-- xsched-ctl status"; "$bin/xsched-ctl" status || true; }
done
wait $opid
ctl=$(json </tmp/xsched-demo-online.$$)
stop_batch
xb=$bres
kill -INT $cpid
wait $cpid || true
rm -f /tmp/xsched-demo-online.$$ /tmp/xsched-demo-ctl.$$

echo
printf '%-28s %10s %12s\n' "configuration" "P99 ms" "batch /s"
printf '%-28s %10s %12s\n' "service alone" "$(field "$solo" p99_ms)" "-"
printf '%-28s %10s %12s\n' "beside batch, native" "$(field "$mixed" p99_ms)" "$(rate_of "$nb")"
printf '%-28s %10s %12s\n' "beside batch, xsched $target" "$(field "$ctl" p99_ms)" "$(rate_of "$xb")"
