# bcdr — the two commands a new machine needs are `make run` and `make test`.
# Both install what is missing (PostgreSQL server binaries, the backup
# tools restic, borg and pgBackRest, and Chromium with CJK fonts and
# poppler-utils for the PDF reports) from Debian packages first.

GO        ?= go
BIN       := bin/bcdr
PKGS      := ./...
FUZZTIME  ?= 2m
SMOKEFUZZ ?= 3s
TOOLS     := postgres restic borg pgbackrest chromium
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)

.PHONY: run test race bench fuzz chaos lint build deps clean

deps:
	@scripts/install-deps.sh $(TOOLS)

build:
	$(GO) build -o $(BIN) ./cmd/bcdr

## run: start the embedded PostgreSQL, migrate, load the demo organisation, serve on http://127.0.0.1:8080
run: deps build
	./$(BIN) serve --demo

## test: every test against a throwaway PostgreSQL, then each fuzz target briefly
test: deps
	$(GO) run ./scripts/testpg -- $(GO) test -count=1 -timeout 15m $(PKGS)
	FUZZTIME=$(SMOKEFUZZ) scripts/fuzz.sh

## race: every test under the race detector (about 13 minutes on two cores; CI runs it after make test)
race: deps
	$(GO) run ./scripts/testpg -- $(GO) test -race -count=1 -timeout 20m $(PKGS)

## bench: the benchmarks named in docs/performance.md
bench: deps
	$(GO) run ./scripts/testpg -- $(GO) test -run '^$$' -bench . -benchmem -timeout 60m $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (2 minutes by default), starting from its committed seed corpus
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## chaos: three bcdr serve replicas on one PostgreSQL for CHAOS_MINUTES (10) under kill -9 and a database restart; prints and checks the invariants
CHAOS_MINUTES ?= 10
chaos: deps
	$(GO) run ./scripts/chaos -minutes $(CHAOS_MINUTES)

## lint: go.mod tidy, gofmt, go vet, staticcheck and the import direction (staticcheck installed when missing)
lint: $(STATICCHECK)
	@$(GO) mod tidy -diff >/dev/null 2>&1 || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; $(GO) mod tidy -diff; exit 1; }
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(STATICCHECK) $(PKGS)
	$(GO) run ./scripts/layers

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin/.staticcheck $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv bin/.staticcheck/staticcheck $@ && rmdir bin/.staticcheck

clean:
	rm -rf bin
