# Thin wrappers over CMake. `make demo` and `make test` first install what is missing.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build demo test test-unit test-asan format format-check clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

# Every test: the full suite, then the unit tests again under ASan+UBSan, then formatting.
# Scenario tests assert latencies of real processes on a 2-core machine; a run that a CPU
# stall spoiled is run again (up to 3 times), and a test that fails 3 times fails. Fuzzers
# are never retried: a crash they find once is a bug.
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600 -LE fuzz --repeat until-pass:3
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600 -L fuzz
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory format-check

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DXSCHED_SANITIZE=ON -DXSCHED_BPF=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j$(JOBS) -L unit --timeout 600

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror && echo "format-check: clean"

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
