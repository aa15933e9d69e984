# shardlab build, test and tooling targets. `make help` lists them; each
# target's help text is the `#?` comment on its line.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin/shardlab
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 10s
# make test runs every fuzz target for this many inputs (an input count, not a
# duration: short -fuzztime durations make the fuzz coordinator flaky under
# load). The seed corpora also run as plain tests in go test.
TEST_FUZZTIME ?= 20000x
BENCH    ?= .
BENCHTIME ?= 1s

# --- Official spec vectors ----------------------------------------------------
# SPEC_TESTS_DIR is a directory holding tests/{minimal,general} (and, for
# spectest-mainnet, tests/mainnet). CI sets it to ../shared/spec-tests/v0.8.3.
# When it is unset, the npm package of the vectors is fetched once into .cache/
# (npm pack, see $(SPEC_TGZ) below),
# its sha512 checked, and only tests/minimal and tests/general extracted
# (tests/mainnet is 3.9 GB: only spectest-mainnet extracts it).
SPEC_VERSION   := 0.8.3
SPEC_NPM_PKG   := @chainsafe/eth2-spec-tests@$(SPEC_VERSION)
SPEC_TGZ_SHA512 := 3r2u9NNHAVVlLZuWzQzU3jndu8mNjh2RAiyNoTySthVdnWqQOHmgOsyPz8iy/atH9RiUj57gguEhEwcA4tkr/Q==
SPEC_CACHE     := .cache/eth2-spec-tests-$(SPEC_VERSION)
SPEC_TGZ       := .cache/eth2-spec-tests-$(SPEC_VERSION).tgz
SPEC_CACHE_DIR := $(CURDIR)/$(SPEC_CACHE)/package

SPEC_TESTS_DIR ?=
ifeq ($(strip $(SPEC_TESTS_DIR)),)
override SPEC_TESTS_DIR := $(SPEC_CACHE_DIR)
SPEC_FETCH := $(SPEC_CACHE)/.extracted-minimal-general
else
# go test runs in each package's directory: pass an absolute path.
override SPEC_TESTS_DIR := $(abspath $(SPEC_TESTS_DIR))
SPEC_FETCH :=
endif

# The mainnet vectors: SPEC_TESTS_DIR's when it has them, else the cache's.
ifneq ($(wildcard $(SPEC_TESTS_DIR)/tests/mainnet),)
MAINNET_DIR   := $(SPEC_TESTS_DIR)
MAINNET_FETCH :=
else
MAINNET_DIR   := $(SPEC_CACHE_DIR)
MAINNET_FETCH := $(SPEC_CACHE)/.extracted-all
endif

.PHONY: chromium scenarios-testnet scenarios-testnet-all check-deps help build static image e2e-docker test spectest spectest-mainnet gen check-gen fuzz bench bench-throughput bench-sweep bench-e2e bench-report-test report-test fmt lint run e2e clean distclean spec-vectors

help: #? list the targets
	@echo "usage: make TARGET [VAR=value]"
	@echo
	@awk -F ':.*#\\? ' '/^[a-zA-Z0-9_-]+:.*#\? / { printf "  %-17s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "variables: SPEC_TESTS_DIR (vectors dir; fetched into .cache/ when unset), FUZZTIME ($(FUZZTIME)), BENCH ($(BENCH)), BENCHTIME ($(BENCHTIME))"

build: #? compile bin/shardlab
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shardlab

# The container image (sim/deploy, docs/deploy.md): a statically linked
# binary (herumi BLS is cgo; netgo and osusergo avoid glibc's NSS) copied
# FROM scratch, so no base image is pulled.
STATIC_BIN  := bin/shardlab-static
STATIC_TAGS := netgo,osusergo,pebblegozstd
IMAGE       ?= shardlab
IMAGE_TAG   ?= $(VERSION)

static: #? compile bin/shardlab-static, statically linked, for the container image
	CGO_ENABLED=1 $(GO) build -tags '$(STATIC_TAGS)' -ldflags '$(LDFLAGS) -s -w -linkmode external -extldflags "-static"' -o $(STATIC_BIN) ./cmd/shardlab

image: static #? build the container image IMAGE:IMAGE_TAG and IMAGE:latest FROM scratch (needs a Docker daemon)
	sim/deploy/image.sh '$(STATIC_BIN)' '$(IMAGE):$(IMAGE_TAG)' '$(IMAGE):latest'

test: $(SPEC_FETCH) #? gofmt and go vet, check generated code, go test ./... (official vectors, the short end-to-end testnet, report pages in headless Chromium), brief fuzzing
	@$(MAKE) --no-print-directory chromium
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory check-deps
	@$(MAKE) --no-print-directory check-gen
	SPEC_TESTS_DIR='$(SPEC_TESTS_DIR)' $(GO) test ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME) SPEC_TESTS_DIR='$(SPEC_TESTS_DIR)'

spectest: build $(SPEC_FETCH) #? run the minimal and general vectors with bin/shardlab spectest
	$(BIN) spectest --dir '$(SPEC_TESTS_DIR)' --preset minimal

spectest-mainnet: build $(MAINNET_FETCH) #? run the mainnet vectors (extracts 3.9 GB into .cache/ if needed)
	$(BIN) spectest --dir '$(MAINNET_DIR)' --preset mainnet

spec-vectors: $(SPEC_FETCH) #? fetch and extract the minimal and general vectors (when SPEC_TESTS_DIR is unset)
	@echo "SPEC_TESTS_DIR=$(SPEC_TESTS_DIR)"

# The package comes from `npm pack`, so that the user's npm configuration
# (registry, proxy, CA, auth in .npmrc) applies; its sha512 is checked here
# too. Without npm: installed with apt-get when running as root, else a clear
# error.
$(SPEC_TGZ):
	@mkdir -p $(@D)
	@if ! command -v npm >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "spec vectors: npm not found: installing it with apt-get"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
		else \
			echo "spec vectors: npm is needed to fetch them (npm pack $(SPEC_NPM_PKG)): install npm (e.g. sudo apt-get install npm)," >&2; \
			echo "  or set SPEC_TESTS_DIR to a directory holding tests/minimal and tests/general" >&2; \
			exit 1; \
		fi; \
	fi
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "npm pack $(SPEC_NPM_PKG)"; \
	(cd "$$tmp" && npm pack --silent '$(SPEC_NPM_PKG)' >/dev/null); \
	tgz=$$(ls "$$tmp"/*.tgz); mv "$$tgz" '$@.part'
	@if command -v openssl >/dev/null; then \
		got=$$(openssl dgst -sha512 -binary '$@.part' | base64 -w0); \
	else \
		got=$$(sha512sum '$@.part' | cut -d' ' -f1 | xxd -r -p | base64 -w0); \
	fi; \
	if [ "$$got" != '$(SPEC_TGZ_SHA512)' ]; then \
		echo "$@: sha512 mismatch: got $$got, want $(SPEC_TGZ_SHA512)" >&2; rm -f '$@.part'; exit 1; \
	fi
	mv '$@.part' '$@'

$(SPEC_CACHE)/.extracted-minimal-general: $(SPEC_TGZ)
	mkdir -p '$(SPEC_CACHE)'
	chmod -R u+w '$(SPEC_CACHE)'
	rm -rf '$(SPEC_CACHE)/package/tests/minimal' '$(SPEC_CACHE)/package/tests/general'
	tar -xzf '$(SPEC_TGZ)' -C '$(SPEC_CACHE)' package/tests/minimal package/tests/general
	touch '$@'

$(SPEC_CACHE)/.extracted-all: $(SPEC_TGZ)
	mkdir -p '$(SPEC_CACHE)'
	chmod -R u+w '$(SPEC_CACHE)'
	rm -rf '$(SPEC_CACHE)/package'
	tar -xzf '$(SPEC_TGZ)' -C '$(SPEC_CACHE)' package
	touch '$@' '$(SPEC_CACHE)/.extracted-minimal-general'

# --- Generated code -------------------------------------------------------------

gen: #? regenerate code (go generate ./...: the sszgen encodings)
	$(GO) generate ./...

check-gen: #? fail when generated code is stale (regenerates in a temporary copy)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	tar --exclude=./.git --exclude=./.cache --exclude=./bin -cf - . | tar -xf - -C "$$tmp"; \
	if ! (cd "$$tmp" && $(GO) generate ./...); then echo "check-gen: go generate failed" >&2; exit 1; fi; \
	stale=0; \
	for f in $$(cd "$$tmp" && grep -rlE --include='*.go' '^// Code generated .* DO NOT EDIT\.$$' . | sort); do \
		if ! cmp -s "$$tmp/$$f" "$$f"; then echo "check-gen: $$f is stale: run make gen" >&2; stale=1; fi; \
	done; \
	if [ $$stale = 0 ]; then echo "check-gen: generated code is up to date"; fi; \
	exit $$stale

# --- Quality ----------------------------------------------------------------------

fuzz: #? run each Fuzz* test for FUZZTIME
	@targets=$$(mktemp); trap 'rm -f "$$targets"' EXIT; \
	$(GO) test -list 'Fuzz.*' ./... | awk '/^Fuzz/ { f[n++] = $$1 } /^ok / { for (i = 0; i < n; i++) print $$2, f[i]; n = 0 }' > "$$targets"; \
	if [ ! -s "$$targets" ]; then echo "fuzz: no Fuzz tests found"; exit 0; fi; \
	while read -r pkg fn; do \
		echo "fuzz: $$pkg $$fn for $(FUZZTIME)"; \
		SPEC_TESTS_DIR='$(SPEC_TESTS_DIR)' $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$pkg" < /dev/null; \
	done < "$$targets"

bench: #? run the Go benchmarks (BENCH regexp, BENCHTIME)
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./...

# Arguments of bench-throughput (e.g. BENCH_ARGS='--find-max --cross-shard 0.5').
BENCH_ARGS ?=
BENCH_OUT  ?= bench-results

bench-throughput: build #? throughput and latency of a real-process testnet (bin/shardlab bench throughput BENCH_ARGS=...; several minutes; not in make test)
	$(BIN) bench throughput --out '$(BENCH_OUT)' $(BENCH_ARGS)

bench-sweep: build #? the scaling sweep: 1, 2, 4, 8, 16 shards at 90% of each point's cap, one testnet per point (about 10 minutes)
	$(BIN) bench throughput --out '$(BENCH_OUT)' --shards 1,2,4,8,16 --cap-fraction 0.9 --warmup 16s --duration 32s --drain 40s $(BENCH_ARGS)

bench-e2e: build #? a one-minute benchmark run on real processes, checked by a Go test (not in make test)
	SHARDLAB_BIN='$(CURDIR)/$(BIN)' SHARDLAB_BENCH_E2E=1 $(GO) test -count=1 -v -timeout 10m -run '^TestRunEndToEnd$$' ./sim/bench

chromium: #? install Debian's chromium (headless report tests) when absent; without apt-get those tests skip, saying so
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ command -v apt-get >/dev/null && (apt-get install -y -q chromium >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); } || \
		echo "chromium: not installed and apt-get failed: the headless report tests will skip" >&2

report-test: chromium #? render the bench and scenario report pages in headless Chromium (installs chromium with apt-get when absent)
	$(GO) test -count=1 -v -run 'InChromium|^TestWriteHTML$$|^TestReportFiles$$' ./sim/chart ./sim/bench ./sim/scenario

bench-report-test: report-test #? the former name of report-test

# The package directories, relative to the repository (.cache/ and the other
# dot directories hold no packages).
GO_DIRS = $$($(GO) list -f '{{.Dir}}' ./... | sed 's|^$(CURDIR)/||')

fmt: #? gofmt every Go file
	gofmt -w $(GO_DIRS)

# The pure packages (STYLE.md P1, P2): no network, storage, clocks, randomness,
# logging or OS access, and imports that point inward only.
PURE_PKGS := ./beacon/params ./beacon/types ./beacon/core ./beacon/forkchoice ./shard/types ./shard/core
PURE_FORBIDDEN_STD := os|net|net/.*|log/slog|log|math/rand|math/rand/v2|time|os/.*|syscall
PURE_FORBIDDEN_DEPS := github.com/shardlab/shardlab/(p2p|sim|cmd|beacon/store|beacon/node|beacon/chain|shard/node|shard/store|shard/chain).*|github.com/libp2p/.*|github.com/cockroachdb/pebble.*

check-deps: #? fail when a pure package imports what it must not (see STYLE.md)
	@bad=0; for p in $(PURE_PKGS); do \
		for i in $$($(GO) list -f '{{join .Imports "\n"}}' $$p); do \
			if echo "$$i" | grep -qxE '$(PURE_FORBIDDEN_STD)'; then echo "check-deps: $$p imports $$i" >&2; bad=1; fi; \
		done; \
		for d in $$($(GO) list -deps -f '{{.ImportPath}}' $$p); do \
			if echo "$$d" | grep -qxE '$(PURE_FORBIDDEN_DEPS)'; then echo "check-deps: $$p depends on $$d" >&2; bad=1; fi; \
		done; \
	done; \
	if [ $$bad = 0 ]; then echo "check-deps: pure packages import nothing forbidden"; fi; exit $$bad

lint: #? fail on unformatted files, then go vet
	@out=$$(gofmt -l $(GO_DIRS)); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting (make fmt):" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) vet ./...

# --- Running ----------------------------------------------------------------------

# make run: a local testnet of real processes (sim/testnet, docs/testnet.md).
# TESTNET_FLAGS adds or overrides `shardlab testnet up` flags, e.g.
# TESTNET_FLAGS='--epochs 0' to run until Ctrl-C, or '--keep'.
TESTNET_DIR   ?= testnet
TESTNET_FLAGS ?=

run: build #? local testnet: 4 beacon + 4 shard nodes, 64 validators, 8 shards, 2 s slots, 8 epochs (about 2.5 min; Ctrl-C stops)
	$(BIN) testnet up --dir '$(TESTNET_DIR)' --nodes 4 --validators 64 --shards 8 --slot-time 2s --epochs 8 $(TESTNET_FLAGS)

e2e: build #? end-to-end test on real processes: 4 beacon + 4 shard nodes, kill -9 and restart, late sync, gossip latency, then the fisherman scenario on the testnet engine (about 5 min)
	SHARDLAB_BIN='$(CURDIR)/$(BIN)' SHARDLAB_E2E=full $(GO) test -count=1 -v -timeout 20m -run '^TestE2EFull$$' ./sim/testnet
	$(BIN) scenario run sim/scenario/testdata/testnet/fisherman.yaml --engine testnet --testnet-dir '$(SCENARIO_OUT)/testnet-fisherman' --report '$(SCENARIO_OUT)/testnet-fisherman'

# The scenarios of `make scenarios-testnet`: files, or built-ins by name
# (docs/scenarios.md, "Engines"). SCENARIO_OUT receives each one's testnet
# directory (node logs) and report.
SCENARIOS_TESTNET ?= sim/scenario/testdata/testnet/baseline.yaml sim/scenario/testdata/testnet/fisherman.yaml double-vote partition-half sim/scenario/testdata/testnet/crash-restart.yaml
SCENARIO_OUT      ?= out/scenarios-testnet
# The other testnet files: the rest of the actions the testnet engine stages
# (make scenarios-testnet-all runs both lists).
T := sim/scenario/testdata/testnet
SCENARIOS_TESTNET_MORE ?= $(T)/late-join.yaml $(T)/exit.yaml $(T)/offline-fraction.yaml $(T)/offline-half.yaml $(T)/wrong-data-root.yaml $(T)/claim-attack.yaml $(T)/early-claim.yaml $(T)/double-proposal.yaml surround-vote $(T)/partition-majority.yaml offline-third

scenarios-testnet: build #? run SCENARIOS_TESTNET on the testnet engine (real processes; about 2 min each; not in make test)
	@failed=""; for s in $(SCENARIOS_TESTNET); do \
		name=$$(basename "$$s" .yaml); start=$$(date +%s); \
		if $(BIN) scenario run "$$s" --engine testnet --testnet-dir '$(SCENARIO_OUT)'/"$$name" --report '$(SCENARIO_OUT)'/"$$name"; then res=pass; else res=FAIL; failed="$$failed $$name"; fi; \
		echo "scenarios-testnet: $$name: $$res in $$(( $$(date +%s) - start ))s (report: $(SCENARIO_OUT)/$$name/report.html)"; \
	done; \
	if [ -n "$$failed" ]; then echo "scenarios-testnet: failed:$$failed" >&2; exit 1; fi; \
	echo "scenarios-testnet: all passed"

scenarios-testnet-all: #? scenarios-testnet, then every other testnet scenario (SCENARIOS_TESTNET_MORE; about 40 min)
	@$(MAKE) --no-print-directory scenarios-testnet SCENARIOS_TESTNET="$(SCENARIOS_TESTNET) $(SCENARIOS_TESTNET_MORE)"

e2e-docker: #? the 4 + 4 node testnet as Docker containers: installs Docker if needed, builds the image, checks finality, agreement and crosslinks, removes all it started (about 5 min)
	GO='$(GO)' sim/deploy/e2e-docker.sh

clean: #? remove bin/ and the go test cache (keeps the fetched vectors in .cache/)
	rm -rf bin out
	$(GO) clean -testcache

distclean: clean #? also remove .cache/ (the fetched spec vectors)
	rm -rf .cache
