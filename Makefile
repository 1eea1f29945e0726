# The two commands of the README: `make demo` and `make test`. Each creates .venv when missing and installs into it.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3
# nbdev_test runs notebooks in parallel processes: one torch thread each keeps 2 cores from thrashing.
NB_WORKERS ?= 2

.PHONY: install test test-fast sync-check nbtest pytest docs-deps docs-check demo publish-demo notebooks readme bench clean

$(STAMP): setup.py settings.ini
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## the whole suite: package/notebook sync, notebook tests (slow ones included), pytest (docs check included)
test: install sync-check docs-deps
	$(MAKE) --no-print-directory nbtest NBTEST_FLAGS="--flags slow"
	$(MAKE) --no-print-directory pytest

## the same without the cells and tests marked slow
test-fast: install sync-check
	$(MAKE) --no-print-directory nbtest
	$(MAKE) --no-print-directory pytest PYTEST_FLAGS='-m "not slow"'

sync-check: install
	$(BIN)/python tools/sync_check.py

nbtest: install
	OMP_NUM_THREADS=1 MPLBACKEND=Agg $(BIN)/nbdev_test --n_workers $(NB_WORKERS) --timing --skip_folder_re '^experiments$$' $(NBTEST_FLAGS)

pytest: install
	$(BIN)/python -m pytest tests $(PYTEST_FLAGS)

## Chromium and MathJax for the offline docs check (tests/test_docs.py, tests/test_jupyterlab.py); installed from
## Debian's packages when we are root. Without Chromium those tests are skipped; with it, the docs check needs MathJax.
MATHJAX_JS := /usr/share/javascript/mathjax/MathJax.js
docs-deps:
	@missing=$$( { command -v chromium >/dev/null || echo chromium; [ -f $(MATHJAX_JS) ] || echo libjs-mathjax; } | xargs); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) ; } || \
	  echo "Not installable here: $$missing. Without Chromium the browser checks are skipped; without MathJax the docs check fails (apt-get install $$missing)"

## render every notebook as nbdev and Quarto show it, open the key pages in headless Chromium (Quarto-free check of the site)
docs-check: install docs-deps
	$(BIN)/python tools/docs_check.py

## the main job: the three experiment notebooks (quick profile) on the built-in data, then the main table
DEMO_OUT ?= runs/demo
demo: install
	$(BIN)/nfer-sde demo $(DEMO_OUT)

## copy what a from-scratch `make demo` measured (main table, translations figure) into nbs/index.ipynb and README.md
publish-demo: install
	$(BIN)/python tools/publish_demo.py $(DEMO_OUT)
	$(BIN)/nbdev_clean --fname nbs/index.ipynb
	$(BIN)/python tools/render_readme.py

## re-execute the numbered notebooks in place so that their saved outputs (the docs' figures) are current
## (cells marked `#| eval: false` keep their saved outputs; the experiment notebooks are executed by papermill:
## `make demo` writes them under runs/demo)
notebooks: install
	MPLBACKEND=module://matplotlib_inline.backend_inline $(BIN)/python tools/run_notebooks.py $(or $(NB),nbs/[0-9]*.ipynb)
	$(BIN)/nbdev_clean
	$(BIN)/nbdev_export

## README.md is rendered from nbs/index.ipynb
readme: install
	$(BIN)/python tools/render_readme.py

bench: install
	shopt -s nullglob; for b in benchmarks/bench_*.py; do $(BIN)/python "$$b" || exit 1; done

clean:
	rm -rf _docs _proc .pytest_cache runs
