# asakai — a thin Makefile over Meson + ninja. See README.md.
#   make          build build/asakai (release-ish: -O2 -g, warnings are errors)
#   make test     deps, ASan+UBSan unit tests, integration tests against the real daemon,
#                 fuzz smoke; ends with "N passed, N failed"
#   make demo     deps, build, start the daemon on embedded defaults with a demo feed
#   make bench    benchmarks (not tests): prints ratios against the named peer/limit
#   make fuzz     build the libFuzzer targets (clang) and run each for FUZZ_SECONDS
#   make install PREFIX=/usr/local
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 10
MESON ?= meson

.PHONY: all build test demo bench fuzz install clean deps check-includes

all: build

deps:
	@sh scripts/deps.sh

build/build.ninja:
	$(MESON) setup build --prefix=$(PREFIX)

build: build/build.ninja
	ninja -C build

build-asan/build.ninja:
	$(MESON) setup build-asan -Db_sanitize=address,undefined -Db_lundef=false

build-fuzz/build.ninja:
	CC=clang $(MESON) setup build-fuzz -Dfuzz=true -Db_lundef=false

test: deps build-asan/build.ninja build
	ninja -C build-asan
	sh scripts/run-tests.sh

demo: deps build
	sh scripts/demo.sh

bench: deps build
	sh scripts/bench.sh
	sh scripts/bench-mon.sh

fuzz: deps build-fuzz/build.ninja
	ninja -C build-fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/fuzz.sh build-fuzz

check-includes:
	sh scripts/check-includes.sh

install: build
	$(MESON) configure build --prefix=$(PREFIX)
	$(MESON) install -C build

clean:
	rm -rf build build-asan build-fuzz
