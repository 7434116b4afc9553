# Switchboard — build, run and test on a Debian/Ubuntu machine.
#   make run    install what is missing, build, start the gateway on the embedded default (mock models)
#   make test   install what the tests need, build, run swift test and the end-to-end tests

SWIFT        ?= swift
PYTHON       ?= python3
BUILD_CONFIG ?= debug
PORT         ?= 4000
BIN_DIR       = .build/$(BUILD_CONFIG)
# Release builds link the Swift runtime statically: every retain, release and task switch is then a
# direct call instead of a trip through the PLT and `__tls_get_addr` — a fifth of a tiny request's
# added latency (docs/performance.md).
BUILD_FLAGS   = $(if $(filter release,$(BUILD_CONFIG)),--static-swift-stdlib)

# Debian packages: the C libraries the gateway links, and pkg-config to find them.
APT_PACKAGES  = pkg-config libcurl4-openssl-dev libprotobuf-c-dev zlib1g-dev libsqlite3-dev
# What the tests add: nginx and openssl (HTTPS + HTTP/2 for the upstream tests, and the bench's fake Gemini),
# tinyproxy (a CONNECT proxy in front of that nginx; the tests run their own, not the system service),
# Prometheus (scrapes /metrics), wrk (the bench smoke), PostgreSQL (the shared store several replicas use;
# the tests start their own server on loopback, as the postgres user when run as root).
TEST_APT_PACKAGES = nginx openssl tinyproxy prometheus wrk postgresql
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup test-setup apt-install build run check test unit-test e2e-test bench bench-smoke clean

setup:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6.2 or newer is required (https://swift.org/install)"; exit 1; }

test-setup: setup
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT_PACKAGES)"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r Tests/e2e/requirements.txt

# Installs whichever of $(PACKAGES) are missing.
apt-install:
	@missing=""; for package in $(PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build -c $(BUILD_CONFIG) $(BUILD_FLAGS)

run: build
	$(BIN_DIR)/switchboard serve --port $(PORT) $(if $(CONFIG),--config $(CONFIG),)

check: build
	$(BIN_DIR)/switchboard check $(if $(CONFIG),--config $(CONFIG),)

test: test-setup
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory unit-test e2e-test bench-smoke

# The upstream client's tests run in a process of their own. In one process with the gateway's tests,
# about one run in seven stalls with every task suspended and no thread busy (docs/testing.md, "Known
# issue"); apart, neither has stalled in 20 runs.
unit-test:
	$(SWIFT) test --skip-build --skip UpstreamTests
	$(SWIFT) test --skip-build --filter UpstreamTests

e2e-test:
	cd Tests/e2e && SWITCHBOARD_BIN_DIR=$(CURDIR)/.build/debug $(PYTHON) -m pytest -p no:cacheprovider -q

# The benchmark beside LiteLLM (minutes; release build); writes docs/performance.md. Not a test.
bench: test-setup
	Tests/bench/run.sh

# A seconds-long run of the benchmark harness on the debug build, so it cannot rot.
bench-smoke:
	Tests/bench/run.sh --smoke

clean:
	rm -rf .build
