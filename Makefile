# make test: everything CI runs (set-up, checks, race tests, short fuzzing).
# Any failure stops it with a non-zero status.
# make demo: the main job, the live support chat (cmd/socketio serve).
# make bench-compare: Go vs Node.js socket.io (ws and uWebSockets.js engines)
# side by side, full size (about an hour on 2 cores), writing bench/RESULTS.md;
# BENCH_QUICK=1 for a smoke run of a few minutes. BENCH_FLAGS adds flags of
# go run ./bench/compare (-reps, -cases, -targets, -pin).

GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 5s

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: test setup check gotest fuzz-short bench bench-compare demo

test: setup check gotest fuzz-short

setup:
	./scripts/setup.sh

# gofmt -l prints unformatted files and fails on a syntax error; node_modules
# is not ours.
check:
	@files=$$(find . -name '*.go' -not -path './node_modules/*' -not -path './.git/*'); \
	out=$$(gofmt -l $$files); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

gotest:
	$(GO) test -race -count=1 -timeout 20m ./...

# Every Fuzz target runs briefly; its seeds already ran in gotest. Minimizing
# is capped: Go otherwise spends up to 60 s shrinking each new interesting
# input, and when -fuzztime ends during that it reports a spurious "fuzzing
# process hung or terminated unexpectedly" (golang/go#52569, #56238).
fuzz-short:
	@for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x $$pkg; \
		done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# The benchmarks need no browser either.
bench-compare:
	WITH_BROWSER=0 ./scripts/setup.sh
	$(GO) run ./bench/compare -write bench/RESULTS.md $(BENCH_FLAGS)

# The demo needs no browser: set-up skips Chromium. DEMO_FLAGS passes flags,
# e.g. make demo DEMO_FLAGS='-addr 0.0.0.0:3000 -agent-token secret'.
DEMO_FLAGS ?=
demo:
	WITH_BROWSER=0 ./scripts/setup.sh
	$(GO) build -o bin/socketio ./cmd/socketio
	./bin/socketio serve $(DEMO_FLAGS)
