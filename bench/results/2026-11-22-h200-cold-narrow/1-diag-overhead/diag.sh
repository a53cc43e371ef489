#!/bin/bash
# Where does the controller's one ~250 ms service sample at start come from?
# Run from the repository root on the GPU machine, with the build in $B and results to $OUT:
# the controller, the service alone under xsched-run, and `xsched-ctl status --json` polled
# every 10 ms (diag/poll.jsonl: the service process's burst count and latency sum over time).
export PATH=$PATH:/usr/local/nvidia/bin
B=${B:-.carry/build}
mkdir -p $OUT/diag
$B/bin/xsched-ctl run --p99-target 5ms --no-ebpf -v > $OUT/diag/ctl.log 2>&1 &
CTL=$!
sleep 1
python3 - > $OUT/diag/poll.jsonl <<'PY' &
import subprocess,time,json
end=time.time()+30
while time.time()<end:
    r=subprocess.run(['.carry/build/bin/xsched-ctl','status','--json'],capture_output=True,text=True)
    if r.stdout.startswith('{'):
        print(json.dumps({'t':time.time(),'st':json.loads(r.stdout)}),flush=True)
    time.sleep(0.01)
PY
POLL=$!
date +%s.%N > $OUT/diag/start
XSCHED_LOG=debug $B/bin/xsched-run --priority high -- python3 tests/gpu/torch_online.py --duration 6 --all-latencies --tag diag > $OUT/diag/online.json 2> $OUT/diag/online.err
date +%s.%N > $OUT/diag/end
sleep 1
kill $POLL; kill -INT $CTL; wait
