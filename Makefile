# Every command sets up what it needs first, idempotently, from a clean clone:
#   make run    the node on the development stack (Kubo + anvil) at http://127.0.0.1:8080
#   make test   every check: ruff, mypy, the layering test and the whole pytest suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KUBO_DIR := scripts/devstack/kubo
KUBO := $(KUBO_DIR)/bin/ipfs
KUBO_ARM64 := $(KUBO_DIR)/bin/linux-arm64/ipfs
KUBO_PIN := $(KUBO_DIR)/go.mod $(KUBO_DIR)/go.sum $(KUBO_DIR)/main.go
CHAIN_DIR := scripts/devstack/chain
BROWSER_DIR := scripts/devstack/browser

.PHONY: test-fast setup system-packages run test lint bench kubo-arm64 strings clean

setup: $(VENV)/.installed $(KUBO) $(CHAIN_DIR)/node_modules/.installed \
	$(BROWSER_DIR)/node_modules/.installed system-packages

$(VENV)/.installed: pyproject.toml scripts/constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "chatbox needs Python 3.11 or newer" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint scripts/constraints.txt --editable '.[dev]'
	touch $@

# Kubo, the daemon the box ships, built from its pinned module with the installed Go;
# built again only when the pin changes. The image takes the linux/arm64 build.
$(KUBO): $(KUBO_PIN)
	scripts/devstack/build_kubo.sh $@

kubo-arm64: $(KUBO_ARM64)

$(KUBO_ARM64): $(KUBO_PIN)
	scripts/devstack/build_kubo.sh $@ linux/arm64

$(CHAIN_DIR)/node_modules/.installed: $(CHAIN_DIR)/package-lock.json
	cd $(CHAIN_DIR) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# axe-core, which the browser tests run inside every page they check.
$(BROWSER_DIR)/node_modules/.installed: $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the tests use: Chromium, which browser tests drive through Playwright
# (it never downloads a browser); iproute2, whose `ip netns` gives the mDNS test two
# hosts on one machine; systemd, whose systemd-analyze checks the units; e2fsprogs, for
# the small loop-mounted disk of the disk-full test.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v mkfs.ext4 >/dev/null || missing="$$missing e2fsprogs"; \
	[ -z "$$missing" ] || { \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; }

run: setup
	$(BIN)/chatbox dev

lint: setup
	$(BIN)/ruff check node tests scripts
	$(BIN)/ruff format --check node tests scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest tests/fast tests/domain tests/protocol tests/test_layering.py

bench: setup
	$(BIN)/python scripts/bench_core.py

# After changing what the pages say: new strings arrive in each language's .po to be
# translated; the tests fail until every one is.
strings: setup
	$(BIN)/python scripts/strings.py update
	$(BIN)/python scripts/strings.py check

clean:
	rm -rf $(VENV) $(KUBO_DIR)/bin $(CHAIN_DIR)/node_modules $(BROWSER_DIR)/node_modules .chatbox-dev test-artifacts
