# Everything a newcomer needs: `make demo` and `make test` install what they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench bench-search bench-crawl clean browser office redis

# The browser tests drive Debian's Chromium through Playwright (Playwright's own
# browser download does not work offline). Installed when we are root on Debian;
# otherwise the browser tests skip and say why.
CHROMIUM := /usr/bin/chromium
# The CSV export test opens the file in LibreOffice (headless); same rule as chromium.
SOFFICE := /usr/bin/soffice

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vnnews demo

browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: $(CHROMIUM) missing (apt-get install chromium); browser tests will skip" >&2; fi; }

office:
	@test -x $(SOFFICE) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	  else echo "note: $(SOFFICE) missing (apt-get install libreoffice-calc-nogui); the CSV-in-LibreOffice test will skip" >&2; fi; }

# The shared-crawl tests start Debian's redis-server on a free port; installed like
# Chromium when we are root on Debian, otherwise those tests skip and say why.
REDIS_SERVER := /usr/bin/redis-server

redis:
	@test -x $(REDIS_SERVER) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else echo "note: $(REDIS_SERVER) missing (apt-get install redis-server); shared-crawl tests will skip" >&2; fi; }

test: $(STAMP) browser office redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.extraction
	$(BIN)/python -m bench.search --n 100000

# The full-size search benchmark: 1,000,000 articles, about 6 minutes and 3.4 GB in build/.
bench-search: $(STAMP)
	$(BIN)/python -m bench.search --n 1000000

# End-to-end crawl rates on a local site of real-size pages (docs/benchmarks.md).
bench-crawl: $(STAMP) redis
	$(BIN)/python -m bench.crawl --n 3000

clean:
	rm -rf $(VENV) build *.egg-info demo.db
