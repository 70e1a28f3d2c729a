# The one entry point for building, running and testing Userdesk; CI calls the same targets.
GO ?= go
export USERDESK_BROWSER_TESTS ?= 1

.PHONY: run test generate lint build tenant

## run: Userdesk on http://127.0.0.1:8080 with the embedded tenant on 127.0.0.1:8081, demo data seeded
run: generate
	$(GO) run ./cmd/web

## test: every test, including the headless-Chromium journey (installs Debian's chromium when missing)
test: generate
	@if [ "$(USERDESK_BROWSER_TESTS)" != "0" ]; then ./scripts/ensure-chromium; fi
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
