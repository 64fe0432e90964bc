# Thin wrapper over CMake. `make` builds Release into build/, `make test`
# builds with ASan/UBSan and -Werror into build-test/ and runs every suite.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test run bench install clean fuzz fuzz-build soak
FUZZ_SECONDS ?= 300
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
	$(MAKE) fuzz-build
	fuzz/run.sh build-fuzz 10

# The libFuzzer targets (fuzz/): a clang build of its own.
fuzz-build: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DPOLICYD_FUZZ=ON -DPOLICYD_WERROR=ON $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets

# Ten minutes of mixed traffic beside hostile clients, a reload every 30 s
# (tests/soak/soak.py), on the Release build.
soak: build
	/usr/bin/python3 tests/soak/soak.py --build build --seconds 600 --reload 30 --max-growth 100

# Each target for FUZZ_SECONDS (default 300) from its corpus.
fuzz: fuzz-build
	fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

run: build
	@echo "policyd: serving on 127.0.0.1:7379 with policies/default.lua;"
	@echo "policyd: connect with: redis-cli -p 7379   (stop: Ctrl-C; reload: kill -HUP)"
	build/policyd --policy policies/default.lua --port 7379

bench: build
	@tools/deps.sh redis-server memcached
	build/tests/bench/bench_engine
	tests/bench/redis_overhead.sh
	tests/bench/replay_table.sh build
	tests/bench/callgrind.sh build
	python3 tests/bench/peers.py --build build --out bench/results
	python3 tests/bench/attack.py --build build --seconds 5 --out bench/results

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-test build-fuzz
