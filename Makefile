# Thin wrapper over CMake. `make` builds Release into build/, `make test`
# builds with ASan/UBSan and -Werror into build-test/ and runs every suite.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test run bench install clean
PREFIX ?= /usr/local

all: build

deps:
	@tools/deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPOLICYD_WERROR=ON $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS)

test: deps
	cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DPOLICYD_SANITIZE=ON -DPOLICYD_WERROR=ON $(CMAKE_FLAGS)
	cmake --build build-test -j $(JOBS)
	cd build-test && ctest --output-on-failure -j $(JOBS) --timeout 600

run: build
	@echo "policyd: the engine library and its tests are built (build/)."
	@echo "policyd: the daemon (build/policyd) comes with the daemon issue;"
	@echo "policyd: until then, 'make test' runs the engine's suites and"
	@echo "policyd: 'make bench' prints the engine's micro-benchmark."

bench: build
	@tools/deps.sh redis-server
	build/tests/bench/bench_engine
	tests/bench/redis_overhead.sh
	build/tests/bench/bench_policy policies/default.lua

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-test
