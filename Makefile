# Two commands on a fresh Debian machine, as root:
#   make up    — start Asterisk + controller + web (foreground; Ctrl-C stops all of it)
#   (make cluster — two such nodes behind Kamailio with one PostgreSQL, to try scale-out)
#   make test  — install what is missing and run every test
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: up cluster test deps lint typecheck unit bench bench-acd bench-load bench-cluster flows-check clean

deps:
	@./scripts/install-deps.sh

up: deps
	$(BIN)/ivr up

# two nodes behind Kamailio with a private PostgreSQL in var/cluster, all on this machine (README
# "A cluster on this machine"); Ctrl-C stops all it started
cluster: deps
	$(BIN)/ivr cluster up

lint: deps
	$(BIN)/ruff check ivr acd tests bench
	$(BIN)/ruff format --check ivr acd tests bench

typecheck: deps
	$(BIN)/mypy

flows-check: deps
	$(BIN)/ivr flows check

test: deps
	$(BIN)/ruff check ivr acd tests bench
	$(BIN)/ruff format --check ivr acd tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ivr flows check
	$(BIN)/ivr acd check
	$(BIN)/pytest -q -p no:cacheprovider -rs -n 2 --dist loadfile --durations=25

unit: deps
	$(BIN)/pytest -q -rs -m "not asterisk"

bench: deps
	$(BIN)/python -m bench.capacity

# our ACD against Asterisk's app_queue (docs/benchmarks.md "ACD against app_queue")
bench-acd: deps
	$(BIN)/python -m bench.acd

# a realistic caller mix with reconciliation (SIPp = CDR = store); add --soak 600 for the 10-minute soak
bench-load: deps
	$(BIN)/python -m bench.load

# the same load against one node and two nodes behind Kamailio, one PostgreSQL (docs/benchmarks.md "Scale-out")
bench-cluster: deps
	$(BIN)/python -m bench.cluster

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
