# Every target bootstraps what it needs from nothing: Python 3.11, Java 17 and Node.js on PATH.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CDK := node_modules/.bin/cdk
LAKE ?= .lake/demo
ENV ?= dev

.PHONY: help install jvm-archive demo test lint format synth deploy bench reliability clean

help:
	@echo "make demo         run the whole pipeline locally on generated data (no AWS account)"
	@echo "make test         lint + every test (unit, Spark, CDK synthesis, moto, end-to-end)"
	@echo "make lint         ruff lint and format check"
	@echo "make synth        synthesise the CDK app (ENV=dev|prod), offline"
	@echo "make deploy       deploy the CDK app to the AWS account of your credentials"
	@echo "make bench        the performance benchmark (ROWS=10000000 by default)"
	@echo "make reliability  the hostile-input, crash and concurrency report"
	@echo "make jvm-archive  build the local Spark JVM's class archive (demo/test/bench do)"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cdk,dev]'
	@touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) node_modules/.installed

# The local Spark JVM's classes in one archive: each local job starts ~3 s sooner. Built once
# per JDK and virtualenv (~1 min; a no-op when there); jobs run without it as well.
jvm-archive: $(STAMP)
	@$(BIN)/python -m glue_jobs.class_archive

demo: $(STAMP) jvm-archive
	@command -v java >/dev/null || { echo "Java 17 is required for Spark (java not found)"; exit 1; }
	$(BIN)/energy-lake demo --lake $(LAKE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install lint jvm-archive
	$(BIN)/python -m pytest -n 2 --dist loadfile

synth: install
	$(CDK) synth -c env=$(ENV) --quiet

deploy: install
	$(CDK) deploy -c env=$(ENV) --all

bench: $(STAMP) jvm-archive
	$(BIN)/energy-lake bench --rows $${ROWS:-10000000}

reliability: $(STAMP)
	$(BIN)/python -m pytest -m reliability -p no:randomly -q tests/reliability tests/core

clean:
	rm -rf $(VENV) node_modules cdk.out .lake .pytest_cache
