# Everything a fresh machine needs is installed by these targets (uv, the Python env, node packages).
UV := python3 -m uv

.PHONY: example test setup browser bench lint infra

setup:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@if [ -f tests/js/package.json ]; then cd tests/js && npm ci --silent --no-audit --no-fund; fi

# Debian's chromium for the console's browser tests (Playwright drives it; it never downloads one).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "setup: chromium is missing; install it (sudo apt-get install chromium) for the browser tests" >&2; fi; }

example: setup
	@$(UV) run python -m functions

test: setup browser
	@$(UV) run pytest -q

bench: setup
	@$(UV) run python -m bench.runtime

lint: setup
	@$(UV) run ruff check .
	@$(UV) run mypy

# infra/statefun/: what `baton build` renders for the example (a test fails when it is stale).
infra: setup
	@$(UV) run baton build module.yaml --out infra/statefun/example --target k8s --target compose \
		--serve functions.app:functions --app orders
	@$(UV) run baton build infra/statefun/cluster/module.yaml --out infra/statefun/cluster \
		--context . --target k8s --target compose --kafka --serve functions.app:functions --app orders
