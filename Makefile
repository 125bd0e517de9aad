# Orion's build. Tools are pinned and installed into bin/ and tools/buf/
# behind stamp files; nothing is fetched from outside the Go module proxy and
# the npm registry.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO            ?= go
BIN           := $(CURDIR)/bin
TMP           := $(CURDIR)/.tmp
BUF           := $(CURDIR)/tools/buf/node_modules/.bin/buf
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION       := v2.33.0
TOOLS_STAMP   := $(BIN)/.tools-$(PROTOC_GEN_GO_VERSION)-$(PROTOC_GEN_GO_GRPC_VERSION)-$(GRPC_GATEWAY_VERSION)
BUF_STAMP     := $(CURDIR)/tools/buf/node_modules/.stamp
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
TEST_FLAGS    ?= -race -shuffle=on -count=1 -timeout=20m

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

.PHONY: run
run: build ## Build and start the server on 127.0.0.1:4200 with the embedded store under $ORION_HOME (~/.orion)
	$(BIN)/orion server start

.PHONY: build
build: ## Build bin/orion (server, agent, CLI) and bin/orion-agent (the agent alone, which `orion agent start` hands over to)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/ ./cmd/orion ./cmd/orion-agent

NODE_STAMP    := $(CURDIR)/node_modules/.stamp

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: deps
deps: ## Install what the tests use: Debian packages when missing (scripts/test-deps), the npm packages (committed lockfile)
	scripts/test-deps
	@$(MAKE) $(NODE_STAMP)
	@python3 -c 'import sys; assert sys.version_info >= (3, 9), sys.version' || { echo "python3 >= 3.9 is required"; exit 1; }

$(TOOLS_STAMP):
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	touch $@

$(BUF_STAMP): tools/buf/package-lock.json
	cd tools/buf && npm ci --no-audit --no-fund --loglevel=error
	$(BUF) --version
	touch $@

.PHONY: python-codegen
python-codegen: ## Check Debian's protoc and grpc_python_plugin (for gen/python)
	@command -v /usr/bin/protoc >/dev/null && command -v grpc_python_plugin >/dev/null || { \
		echo "gen/python needs Debian's protoc and gRPC plugin: apt-get install -y protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf"; exit 1; }

.PHONY: tools
tools: $(TOOLS_STAMP) $(BUF_STAMP) python-codegen ## Install the pinned code generators (buf 1.75.0 and protoc plugins)

.PHONY: generate
generate: tools ## Regenerate gen/ from proto/ (byte for byte reproducible)
	$(BUF) generate
	scripts/gen-openapi-embed gen/openapi

.PHONY: check-generate
check-generate: generate ## Fail when gen/ differs from what proto/ generates
	@if [ -n "$$(git status --porcelain -- gen)" ]; then \
		echo "gen/ is out of date with proto/: run 'make generate' and commit the result"; \
		git status --porcelain -- gen; git --no-pager diff --stat -- gen; exit 1; fi
	@echo "gen/ matches proto/"

.PHONY: lint
lint: tools $(NODE_STAMP) ## go vet, gofmt, buf lint, buf format, OpenAPI validation, dashboard modules
	$(GO) vet ./...
	@$(MAKE) ui
	@out="$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(BUF) lint
	$(BUF) format -d --exit-code
	node scripts/validate-openapi.mjs gen/openapi/orion.swagger.json

.PHONY: test
test: deps check-generate lint ## Everything CI runs: installs what the tests need, checks generated code and lint, runs all tests with -race (a private Docker engine started for them), a short fuzz run and every Go benchmark once
	mkdir -p $(TMP)
	eval "$$(scripts/docker-test-engine env)"; \
	$(GO) test $(TEST_FLAGS) -v ./... 2>&1 | tee $(TMP)/test.log | scripts/test-summary
	$(MAKE) fuzz-short
	$(MAKE) bench-smoke

# Native Go fuzz targets: package:target. make test runs each briefly;
# `make fuzz FUZZTIME=10m` runs them longer.
FUZZ_TARGETS := ./client/cli:FuzzYAMLSpecs ./client/cli:FuzzPythonLoaderOutput \
	./server/scheduler:FuzzSchedule ./server/validate:FuzzCreateDeployment ./server/validate:FuzzRequests
FUZZTIME ?= 5m

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 5m each); new crashers land in testdata/fuzz/
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

.PHONY: fuzz-short
fuzz-short: ## Run every fuzz target for 30,000 inputs (part of make test)
	@# A count, not a duration: a duration races Go 1.26's fuzz coordinator
	@# at its deadline on a loaded machine and fails with a bare "context
	@# deadline exceeded" and no crasher (golang/go#75804, fixed in Go 1.27).
	@$(MAKE) fuzz FUZZTIME=30000x

.PHONY: ui
ui: ## Check the dashboard's ES modules parse (no build step: server/gateway/ui/static is embedded as it is)
	@for f in $$(git ls-files 'server/gateway/ui/static/*.js'); do node --check "$$f"; done
	@echo "dashboard modules OK"

SCREENSHOTS ?= $(CURDIR)/docs/screenshots
.PHONY: screenshots
screenshots: ## Write PNGs of every dashboard page (1280 px, one at 390 px) to docs/screenshots (needs chromium)
	mkdir -p $(SCREENSHOTS)
	ORION_SCREENSHOTS=$(SCREENSHOTS) $(GO) test -count=1 -run 'TestDashboard_EndToEnd' ./cmd/orion

.PHONY: test-fault
test-fault: ## Fault tests with real processes: kill -9 of agents and the server, restarts, a network cut
	$(GO) test -race -count=1 -v -run 'TestFault_' ./cmd/orion

SOAK_CYCLES ?= 200
.PHONY: soak
soak: ## Random kill cycles (SOAK_CYCLES, default 200) with the history checker; prints the counts
	ORION_SOAK_CYCLES=$(SOAK_CYCLES) $(GO) test -race -count=1 -v -timeout=120m -run 'TestSoak_RandomKills' ./cmd/orion 2>&1 | grep -E 'soak|^(---|===|ok|FAIL|PASS)'

BENCH_FLAGS ?=
.PHONY: bench
bench: build ## Full `orion bench` (real server and agents, every phase incl. the 1M-run list; several minutes); prints the table
	$(BIN)/orion bench $(BENCH_FLAGS)

.PHONY: bench-short
bench-short: build ## A quick `orion bench` (dispatch, throughput, api, rss at small sizes; under a minute)
	$(BIN)/orion bench --only dispatch,throughput,api,rss --runs 1000 --duration 3s $(BENCH_FLAGS)

GO_BENCH      ?= .
GO_BENCHTIME  ?= 1s
.PHONY: bench-go
bench-go: ## The Go benchmarks of the hot paths (store, rules, dispatch, scheduler, gateway); GO_BENCH=regexp GO_BENCHTIME=5s
	$(GO) test -run '^$$' -bench '$(GO_BENCH)' -benchtime $(GO_BENCHTIME) -benchmem ./server/store/bolt ./server/orchestration ./server/dispatch ./server/scheduler ./server

.PHONY: bench-smoke
bench-smoke: ## Every Go benchmark once (part of make test: they must run, their timings are not checked)
	@$(MAKE) bench-go GO_BENCHTIME=1x

.PHONY: test-short
test-short: ## Unit tests only (skips the end-to-end tests)
	$(GO) test -race -short ./...

.PHONY: clean
clean: ## Remove build outputs and installed tools
	rm -rf $(BIN) $(TMP) tools/buf/node_modules node_modules
