# The two quick-start commands (see README):
#   make run    install dependencies, build, start the embedded demo
#   make test   install dependencies, build, run every test
# Both work from a clean clone on Debian 12 as root.

BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS ?= $(shell nproc)
RUN_ARGS ?=

.PHONY: all deps test-deps build run test unit format format-check asan tsan bench clean

all: build

deps:
	@sh tools/install-deps.sh build

test-deps:
	@sh tools/install-deps.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMH_WERROR=ON

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/machine-health run $(RUN_ARGS)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h') && echo "format-check: ok"

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMH_WERROR=ON \
	  -DMH_SANITIZE=address,undefined -DMH_BUILD_BENCHMARKS=OFF

# The sanitizer build builds and runs the unit tests (label "unit").
asan: test-deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit-tests
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -L unit --output-on-failure -j $(JOBS)

$(TSAN_BUILD)/build.ninja:
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMH_WERROR=ON \
	  -DMH_SANITIZE=thread -DMH_BUILD_BENCHMARKS=OFF

# ThreadSanitizer over the unit tests of the components that run threads of
# their own: the pipeline, the scorer (ParallelScorer), Parquet column reads,
# the row writer, features, the score/train commands and the machine registry
# (first-sight registration from worker threads). Kafka and MQTT stay
# out: Debian's librdkafka and libmosquitto are not instrumented.
TSAN_TESTS = pipeline/pipeline_test iforest/iforest_test parquet/parquet_test \
  tableio/tableio_test features/features_test app/app_test registry/registry_test
tsan: test-deps build $(TSAN_BUILD)/build.ninja
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(notdir $(TSAN_TESTS))
	@for t in $(TSAN_TESTS); do \
	  echo "tsan: $$t"; \
	  MH_BINARY=$(CURDIR)/$(BUILD)/machine-health MH_SOURCE_DIR=$(CURDIR) \
	    TSAN_OPTIONS=halt_on_error=1 ./$(TSAN_BUILD)/tests/$$t --gtest_brief=1 || exit 1; \
	done; echo "tsan: ok"

# Every test: format, -Werror build, sanitizer builds (ASan+UBSan over the
# unit tests, TSan over the threaded components), benchmark smoke, then all
# tests (unit, integration, e2e) of the main build; the last line is CTest's
# summary.
test: test-deps format-check build asan tsan
	./tools/bench-smoke.sh $(BUILD)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

bench: build
	./tools/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
