# popsell-gdpr — see README.md. Every target works on a fresh machine with Go installed.
SHELL := /bin/bash
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO_TEST_FLAGS ?= -race -count=1 -timeout 20m

# Local-mode settings for `make run`. Development values only: production reads the admin
# token and the hash key from Key Vault (infra/), never from here.
export FUNCTIONS_CUSTOMHANDLER_PORT ?= 7071
export POPSELL_DATA_DIR ?= $(CURDIR)/.local
export POPSELL_ADMIN_TOKEN ?= local-admin-token-change-me
export GDPR_HASH_KEY ?= 6c6f63616c2d6465762d6f6e6c792d6b65792d6e6f742d666f722d70726f6421
export POPSELL_TEST_CLOCK ?= 1
export POPSELL_SEED_DEMO ?= 1

.PHONY: build run test test-emulators test-browser screenshots bench fuzz lint package deploy clean

build: ## the handler binary for this machine
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/handler ./functions

run: build ## local mode on :7071 with the demo brand; mail goes to $(POPSELL_DATA_DIR)/outbox
	@echo "popsell-gdpr local mode: http://localhost:$(FUNCTIONS_CUSTOMHANDLER_PORT)  outbox: $(POPSELL_DATA_DIR)/outbox"
	./bin/handler

test: ## every test; emulator tests skip (with a reason) unless the emulators run, see .ci/run
	@if [ -z "$$POPSELL_TEST_COSMOS_ENDPOINT$$CI" ]; then echo "note: Cosmos DB and Azurite tests skip: the emulators are not running (make test-emulators runs them)"; fi
	go test $(GO_TEST_FLAGS) ./...

test-emulators: ## start the Cosmos DB and Azurite emulators, run every test against them, stop them
	tools/emulators.sh install
	tools/emulators.sh start
	eval "$$(tools/emulators.sh env)" && go test $(GO_TEST_FLAGS) ./...; rc=$$?; tools/emulators.sh stop; exit $$rc

# The page checks (functions/browser_test.go): headless Chromium from Debian's packages and
# axe-core from npm, installed by tools/browser.sh (apt-get needs root).
BROWSER_TEST := -run '^TestPagesInABrowser$$' ./functions/
SCREENSHOTS ?= $(CURDIR)/.local/screenshots

test-browser: ## every page in headless Chromium: axe-core, 320 px wide, the keyboard
	tools/browser.sh install
	eval "$$(tools/browser.sh env)" && go test -count=1 $(BROWSER_TEST)

screenshots: ## a PNG of every page in every language, 320 and 1280 px wide, into $(SCREENSHOTS)
	tools/browser.sh install
	rm -rf '$(SCREENSHOTS)'
	eval "$$(tools/browser.sh env)" && POPSELL_SCREENSHOTS='$(SCREENSHOTS)' go test -count=1 $(BROWSER_TEST)
	@echo "screenshots: $(SCREENSHOTS)/<language>/<page>-<width>.png"

bench: ## the performance budget (README, "Performance"), as a table of medians
	go run ./tools/bench

FUZZTIME ?= 60s
fuzz: ## run every fuzz target for FUZZTIME each (go test runs their seeds on every make test)
	@set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | cut -d' ' -f2); do \
	    echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	    go test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; \
	done

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

# Function folders that answer only in local mode (the test clock, the embedded queue's
# counts and dead letters): the deployed package leaves them out. infra/package_test.go checks it.
LOCAL_ONLY_FUNCTIONS := $(shell grep -v '^\#' functions/local-only.txt)
DIST ?= dist
PACKAGE_ZIP ?= popsell-gdpr.zip
HANDLER_BUILD ?= CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags '$(LDFLAGS)'

package: ## dist/ = host.json + function folders + linux/amd64 handler, zipped for deployment
	rm -rf $(DIST) && mkdir -p $(DIST)
	$(HANDLER_BUILD) -o $(DIST)/handler ./functions
	cp host.json $(DIST)/
	@for f in functions/*/function.json; do d=$$(basename $$(dirname $$f)); \
	  case " $(LOCAL_ONLY_FUNCTIONS) " in *" $$d "*) echo "package: leaving out $$d (local mode only)"; continue;; esac; \
	  mkdir -p $(DIST)/$$d && cp $$f $(DIST)/$$d/; \
	done
	rm -f $(PACKAGE_ZIP)
	cd $(DIST) && if command -v python3 >/dev/null; then python3 -m zipfile -c $(abspath $(PACKAGE_ZIP)) $$(ls -A); else zip -qr $(abspath $(PACKAGE_ZIP)) .; fi
	@echo "$(DIST)/ ready; $(PACKAGE_ZIP) for deployment; with Core Tools: cd $(DIST) && func start"

DEPLOY_ARGS ?=
deploy: package ## Bicep (infra/main.bicep) then the package, with az; DEPLOY_ARGS=--dry-run prints the commands
	tools/deploy.sh --package $(PACKAGE_ZIP) $(DEPLOY_ARGS)

clean:
	rm -rf bin dist popsell-gdpr.zip
