#!/usr/bin/env bash
# Runs every workload briefly on the real GPU of this machine and prints each command with its
# JSON line: the check that the workloads behave on the hardware they imitate (the spin kernel
# really spins, results match the CPU, error codes are what the tests expect).
#
# usage: tests/workloads/real_gpu_smoke.sh [BIN_DIR]    (default: build/bin)
# Needs only the NVIDIA driver (libcuda.so.1); exits 1 if any run fails.
set -u
bin=${1:-build/bin}
failed=0

run() {
	echo "\$ $*"
	if ! timeout 300 "$bin/$@"; then
		echo "FAILED: $*"
		failed=1
	fi
}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader

# Latency: 1 ms and 10 ms kernels must take that long (p50 just above).
run online --rate 100 --requests 100 --kernels 1 --kernel-us 1000 --copy-bytes 0
run online --rate 100 --requests 50 --kernels 1 --kernel-us 10000 --copy-bytes 0 --warmup 2
run online --rate 200 --duration 2 --kernels 4 --kernel-us 100
run online --rate 200 --duration 1 --resolve dlsym
run online --rate 200 --duration 1 --ptds --default-stream
run online --rate 100 --duration 2 --rate-step 1:300 --latency-log /tmp/xsched-online-latency.txt
# Throughput: 2 threads x 2 streams of 10 ms kernels.
run batch --duration 2 --kernel-us 10000 --streams 2 --threads 2
run batch --iters 20 --kernel-us 1000 --kernels-per-iter 10 --sync none --streams 0
# Launch cost.
run launchbench
run launchbench --resolve dlsym --default-stream
run launchbench --ptds
# Results identical to the CPU's, every resolution mode; error codes as documented.
run correctness
run correctness --ptds
run correctness --resolve dlsym
run correctness --ptds --resolve dlsym --threads 8 --rounds 16
run correctness --fork
run correctness --kernel-us 0 --elems 1048576 --rounds 4
run correctness --expect-error
run correctness --expect-error --ptds --resolve dlsym
if [ "$(nvidia-smi -L 2>/dev/null | wc -l)" -ge 2 ]; then
	run correctness --devices 2
fi
exit $failed
