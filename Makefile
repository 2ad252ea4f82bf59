# make test: everything CI runs (set-up, checks, race tests, short fuzzing).
# make demo: the main job, the live support chat (cmd/socketio serve).

GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 5s

.PHONY: test setup check gotest fuzz-short bench demo

test: setup check gotest fuzz-short

setup:
	./scripts/setup.sh

check:
	@out=$$(gofmt -l . | grep -v node_modules || true); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

gotest:
	$(GO) test -race -count=1 -timeout 20m ./...

# Every Fuzz target runs briefly; seeds already run in gotest.
fuzz-short:
	@set -e; for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

demo: setup
	$(GO) run ./cmd/socketio serve
