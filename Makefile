# Thin wrappers over CMake. `make demo` and `make test` first install what is missing.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build demo test test-unit test-asan test-tsan format format-check clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

# Every test: the full suite (the reliability suite's summary table after it), then the unit
# tests again under ASan+UBSan, the shim and controller tests under TSan, then formatting.
# Scenario tests assert latencies of real processes on a 2-core machine; a run that a CPU
# stall spoiled is run again (up to 3 times), and a test that fails 3 times fails. Fuzzers
# are never retried: a crash they find once is a bug.
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600 -LE fuzz --repeat until-pass:3
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600 -L fuzz
	python3 tests/reliability/summary.py $(BUILD)
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-tsan
	$(MAKE) --no-print-directory format-check

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DXSCHED_SANITIZE=ON -DXSCHED_BPF=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j$(JOBS) -L unit --timeout 600

# ThreadSanitizer: everything built with -fsanitize=thread, BPF off. Covered: the unit tests
# of the shim core (gate, markers, bursts, with its threads), the protocol, the controller
# (laws, status mailbox) and the simulated GPU model; shim_exec preloads the TSan-built
# libxsched.so (exec, RTLD_NEXT through its dlsym interposer), and the shim's scenarios on
# the simulated GPU with the TSan-built shim preloaded into TSan-built workloads (correctness
# with threads, streams, events, graphs, fork and two devices; windows; suspend).
# Not covered: scenarios judged on latency or throughput (latency, fifo, budget, wake-up, the
# controller's), which TSan's slowdown spoils; HIP correctness, whose simulated runtime fails
# natively under TSan; sim_libcuda (one assertion, test_libcuda.c:347) and sim_model_model
# (slice timings).
TSAN_UNIT = ctl_(lathist|latwin|law|allot|cmdest|service|plan|parse|policy|config|pub|resident)|shim_(protocol|gate|exec)|sim_(hip_api|model_robust)|shim_(correctness|window|suspend)_cuda|shim_(window|suspend)_hip
test-tsan: deps
	cmake -S . -B $(BUILD_TSAN) -DXSCHED_TSAN=ON -DXSCHED_BPF=OFF -DXSCHED_FUZZ=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_TSAN) -j$(JOBS)
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		ctest --output-on-failure -j$(JOBS) --timeout 600 -R '^($(TSAN_UNIT))$$'

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror && echo "format-check: clean"

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
