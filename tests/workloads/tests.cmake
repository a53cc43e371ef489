# Integration tests: the workloads as real processes on the simulated GPU, over each vendor's
# simulated library. wl_check.py creates a fresh simulated device, runs the workload and
# checks its JSON line (and the device model's ground truth).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(WL_CHECK ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/wl_check.py
    --build ${CMAKE_BINARY_DIR})

# wl_test(NAME [TIMEOUT seconds] ARGS <wl_check.py arguments>)
function(wl_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "ARGS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_test(NAME ${name} COMMAND ${WL_CHECK} ${T_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "LD_LIBRARY_PATH=${XSCHED_SIM_LIB_DIR};XSCHED_SIM_NAME=xsched-${name}")
endfunction()

# A vendor is tested when its simulated library is part of the build.
set(WL_VENDORS "")
if(EXISTS ${PROJECT_SOURCE_DIR}/tests/sim/cuda/CMakeLists.txt)
  list(APPEND WL_VENDORS cuda)
endif()
if(HIP_INCLUDE_DIR AND EXISTS ${PROJECT_SOURCE_DIR}/tests/sim/hip/CMakeLists.txt)
  list(APPEND WL_VENDORS hip)
endif()

foreach(v ${WL_VENDORS})
  # Every launch and copy reaches the device: 1 synchronous copy filling the buffer, then 4
  # kernels and 1 copy for each of the 55 requests.
  wl_test(wl_online_${v} ARGS
    --check "requests == 50" --check "launches == 55 * 4" --check "copies == 55"
    --check "p50_ms >= 0.8" --check "p99_sched_ms >= p99_ms * 0.99"
    --check "40 <= rate_achieved <= 101"
    --stats-check "total['submitted'] == 1 + 55 * 5" --stats-check "list(dev) == [0]"
    -- online --vendor ${v} --rate 100 --requests 50 --warmup 5 --kernels 4 --kernel-us 200)
  # --copy-in-bytes: each request starts with a host-to-device copy; with no copy back, the
  # device sees 2 kernels and 1 copy per request and nothing else.
  wl_test(wl_online_copy_in_${v} ARGS
    --check "requests == 20" --check "launches == 25 * 2" --check "copies == 25"
    --stats-check "total['submitted'] == 25 * 3"
    -- online --vendor ${v} --rate 200 --requests 20 --warmup 5 --kernels 2 --kernel-us 100
       --copy-bytes 0 --copy-in-bytes 65536)
  # 50 req/s for 1 s, then 150 req/s for 1 s; the log has a header and one line per request.
  set(log ${CMAKE_CURRENT_BINARY_DIR}/wl_online_ratestep_${v}.log)
  wl_test(wl_online_ratestep_${v} ARGS
    --check "199 <= requests <= 202" --check "lines('${log}') == requests + 1"
    --check "launches == requests * 2"
    -- online --vendor ${v} --rate 50 --duration 2 --rate-step 1:150 --warmup 0
       --kernels 2 --kernel-us 100 --latency-log ${log})
  wl_test(wl_online_default_stream_${v} ARGS
    --check "launches == 30 * 3" --stats-check "total['submitted'] == 30 * 3"
    -- online --vendor ${v} --ptds --default-stream --copy-bytes 0 --rate 200
       --requests 20 --warmup 10 --kernels 3 --kernel-us 50)
  # fifo: the 240 kernels of 0.5 ms run one after the other, whatever the streams.
  wl_test(wl_batch_${v} ARGS
    --check "iters == 40" --check "launches == 240" --check "kernels == 240"
    --check "seconds >= 0.12" --stats-check "total['submitted'] == 240"
    -- batch --vendor ${v} --iters 20 --kernels-per-iter 6 --kernel-us 500 --streams 3
       --threads 2)
  wl_test(wl_batch_nosync_${v} ARGS
    --check "launches == kernels" --check "seconds >= 1.0"
    --stats-check "total['submitted'] == total['completed']"
    --stats-check "total['max_inflight'] > 8"
    -- batch --vendor ${v} --sync none --streams 0 --kernel-us 1000 --duration 1)
  wl_test(wl_launchbench_${v} ARGS
    --check "launches == 2100" --check "measured == 2000" --check "ns_per_launch > 0"
    --stats-check "total['submitted'] == 2100"
    -- launchbench --vendor ${v} --launches 2000 --warmup 100)
  # In fifo mode commands run in submission order whatever the dependencies, which would
  # hide a lost one: the correctness runs use the modes where streams overtake each other.
  wl_test(wl_correctness_${v} ARGS --mode timeslice
    --check "ok" --check "digest == expected" --check "mismatches == 0"
    -- correctness --vendor ${v})
  wl_test(wl_correctness_ptds_${v} ARGS --mode concurrent
    --check "ok" --check "threads == 6"
    -- correctness --vendor ${v} --ptds --threads 6 --rounds 12 --kernel-us 10)
  wl_test(wl_correctness_fork_${v} ARGS --mode timeslice
    --check "ok" --check "processes == 2"
    -- correctness --vendor ${v} --fork)
  wl_test(wl_correctness_2dev_${v} ARGS --mode concurrent --devices 2
    --check "ok" --check "devices == 2"
    --stats-check "sorted(dev) == [0, 1]"
    --stats-check "dev[0]['submitted'] > 0 and dev[1]['submitted'] > 0"
    -- correctness --vendor ${v} --devices 2)
  wl_test(wl_correctness_errors_${v} ARGS --mode timeslice
    --check "ok" --check "cases == passed"
    -- correctness --vendor ${v} --expect-error --dangling-handles)
endforeach()

if("cuda" IN_LIST WL_VENDORS)
  # Entry points taken with plain dlsym instead of cuGetProcAddress_v2.
  wl_test(wl_correctness_dlsym_cuda ARGS --mode timeslice
    --check "ok" -- correctness --vendor cuda --resolve dlsym)
  wl_test(wl_correctness_dlsym_ptds_cuda ARGS --mode concurrent
    --check "ok" -- correctness --vendor cuda --resolve dlsym --ptds)
  wl_test(wl_online_dlsym_cuda ARGS --check "launches == 30 * 4"
    -- online --vendor cuda --resolve dlsym --rate 200 --requests 20 --warmup 10)
endif()

# Bad command lines: one line naming the value and what is accepted, exit 2.
wl_test(wl_bad_args_online ARGS --exit 2 --stderr "^online: bad --rate value 'abc': expected"
  -- online --rate abc)
wl_test(wl_bad_args_online_copy_in ARGS --exit 2
  --stderr "^online: bad --copy-in-bytes value 'lots': expected an integer from 0"
  -- online --copy-in-bytes lots)
wl_test(wl_bad_args_batch ARGS --exit 2
  --stderr "^batch: bad --sync value 'sometimes': expected iter or none"
  -- batch --sync sometimes)
wl_test(wl_bad_args_correctness ARGS --exit 2
  --stderr "^correctness: bad --elems value '6': expected a multiple of 4"
  -- correctness --elems 6)
wl_test(wl_bad_args_vendor ARGS --exit 2
  --stderr "^launchbench: bad --vendor value 'amd': expected cuda or hip"
  -- launchbench --vendor amd)
wl_test(wl_bad_args_unknown ARGS --exit 2 --stderr "^online: unknown option '--bogus'"
  -- online --bogus)
