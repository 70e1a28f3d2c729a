# The one entry point for building, running and testing Userdesk; CI calls the same targets.
GO ?= go
export USERDESK_BROWSER_TESTS ?= 1

.PHONY: run test generate lint build tenant bench test-postgres

## run: Userdesk on http://127.0.0.1:8080 with the embedded tenant on 127.0.0.1:8081, demo data seeded
run: generate
	$(GO) run ./cmd/web

## test: every test, including the headless-Chromium journeys (installs Debian's chromium and axe-core from npm when missing)
test: generate
	@if [ "$(USERDESK_BROWSER_TESTS)" != "0" ]; then ./scripts/ensure-chromium; fi
	@if [ "$(USERDESK_BROWSER_TESTS)" != "0" ]; then ./scripts/ensure-axe >/dev/null; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

## generate: templ components -> *_templ.go (committed)
generate:
	$(GO) tool templ generate -log-level error

## lint: gofmt, go vet, and generated templ code up to date
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	$(GO) tool templ generate -log-level error
	git diff --exit-code -- '*_templ.go'

build:
	$(GO) build -o bin/userdesk ./cmd/web

## bench: dashboard pages vs the bare upstream calls (5 runs, medians), upstream economy, embedded tenant at 100k users; one table
bench:
	@echo "benchmarks running (a few minutes); raw output in bench.out"
	@: > bench.out; for run in 1 2 3 4 5; do \
	   $(GO) test -run '^$$' -bench 'BenchmarkPages' -benchmem ./cmd/web/ >> bench.out || { cat bench.out; exit 1; }; done
	@$(GO) test -run '^$$' -bench 'BenchmarkUpstreamEconomy' ./cmd/web/ >> bench.out || { cat bench.out; exit 1; }
	@$(GO) test -run '^$$' -bench 'BenchmarkUsersAPI100k' -benchmem -timeout 30m ./internal/tenant/ >> bench.out || { cat bench.out; exit 1; }
	@$(GO) run ./scripts/benchtable < bench.out

## test-postgres: the PostgreSQL runs (stores, token store, two replicas); starts a local server as root
test-postgres:
	@url="$$(./scripts/ensure-postgres | tail -n 1)" && \
	 USERDESK_TEST_POSTGRES="$$url" $(GO) test -count=1 ./internal/db/... ./internal/sessionstore/... ./internal/audit/... ./internal/tokenstore/... && \
	 USERDESK_TEST_POSTGRES="$$url" USERDESK_BROWSER_TESTS=0 $(GO) test -count=1 -run 'TestReplicas' ./cmd/web/
