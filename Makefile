# Omni-channel member and service hub. `make help` lists the targets.
# Every target sets itself up on a fresh machine: the first run creates .venv (application, tests)
# and .tools (SAM CLI, which pins its own boto3 and pydantic) from the requirements files.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.12: use the same minor version locally when pyenv has it, else python3.
PYTHON_BOOT := $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)
VENV := .venv
TOOLS := .tools
PY := $(VENV)/bin/python
STAGE ?= dev
PORT ?= 3000
ROLE ?= admin
REGION ?= cn-north-1
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := $(CURDIR)/layers/hub:$(CURDIR)

$(VENV)/.installed: layers/hub/requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv
	@$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -r layers/hub/requirements.txt -r requirements-dev.txt
	@touch $@

$(TOOLS)/.installed: requirements-tools.txt $(VENV)/.installed
	@test -x $(TOOLS)/bin/python || $(PYTHON_BOOT) -m venv $(TOOLS)
	@$(VENV)/bin/uv pip install -q --python $(TOOLS)/bin/python -r requirements-tools.txt
	@touch $@

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(PORT)/$(PORT)/g' \
		| awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: install
install: $(VENV)/.installed $(TOOLS)/.installed ## Create the virtual environments

.PHONY: demo
demo: $(VENV)/.installed ## Replay a multi-channel day through the local stack and report
	@$(PY) -m devstack --region $(REGION) demo

.PHONY: dev
dev: $(VENV)/.installed ## Serve the HTTP API on 127.0.0.1:$(PORT) over the embedded AWS (PORT=n; DEMO=1 loads the demo day)
	@$(PY) -m devstack --region $(REGION) serve --port $(PORT) $(if $(DEMO),--demo)

.PHONY: token
token: $(VENV)/.installed ## Print a bearer token for the local API: make -s token ROLE=agent [LEADER=id] [STORE=id]
	@$(PY) -m devstack --region $(REGION) token --role $(ROLE) $(if $(LEADER),--leader $(LEADER)) $(if $(STORE),--store $(STORE))

.PHONY: classify
classify: $(VENV)/.installed ## Classify JSON Lines: make -s classify < in.jsonl > out.jsonl
	@$(PY) -m omnihub.feedback.cli

.PHONY: eval-classifier
eval-classifier: $(VENV)/.installed ## Every measure on the frozen test part, confusion tables, worst misses; writes docs/performance.*
	@$(PY) scripts/eval_classifier.py --docs

.PHONY: train-classifier
train-classifier: $(VENV)/.installed ## Rebuild the compact dictionary and the trained heads from ../shared/data and data/feedback-dev
	@$(PY) scripts/train_classifier.py

.PHONY: golden-answers
golden-answers: $(VENV)/.installed ## After a retrain meant to change answers: rewrite tests/unit/feedback/golden_answers.jsonl
	@$(PY) -m tests.unit.feedback.test_fast_paths

.PHONY: bench
bench: $(VENV)/.installed ## The performance report: docs/performance.md and docs/performance.json
	@$(PY) scripts/bench.py

.PHONY: docs
docs: $(VENV)/.installed ## Regenerate docs/api.md and docs/events.md from the code (a test fails when stale)
	@$(PY) scripts/gen_docs.py

.PHONY: reconcile
reconcile: $(VENV)/.installed ## Check every commission statement reconciles to the fen (demo day, or --table NAME)
	@$(PY) scripts/reconcile_commission.py

.PHONY: bench-settlement
bench-settlement: $(VENV)/.installed ## Requests of one T+1 run: 10 active leaders alone vs among 10,000 (about 4 min)
	@$(PY) scripts/bench_settlement.py

.PHONY: bench-sla
bench-sla: $(VENV)/.installed ## DynamoDB requests of one sla-escalation run: 100 vs 10,000 open tickets
	@$(PY) scripts/bench_sla.py --open 10000 --due 100 2>/dev/null | grep -v '^{'

.PHONY: bench-cold-start
bench-cold-start: $(VENV)/.installed ## Cold start of every function vs a bare import boto3
	@$(PY) scripts/bench_cold_start.py

.PHONY: lint
lint: $(VENV)/.installed $(TOOLS)/.installed ## ruff, mypy on the domain, cfn-lint, sam validate, checkov
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@$(VENV)/bin/cfn-lint template.yaml
	@$(TOOLS)/bin/sam validate --lint --region $(REGION) > /dev/null
	@# zero failures; each skip is inline in template.yaml with its reason (docs/security.md)
	@$(TOOLS)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

.PHONY: format
format: $(VENV)/.installed ## Apply ruff's fixes and format
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

.PHONY: browser
browser: ## Debian's chromium and CJK fonts for the /docs browser test (best effort: it skips without)
	@command -v chromium > /dev/null || { command -v apt-get > /dev/null && [ "$$(id -u)" = 0 ] \
	  && timeout 900 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk' > /dev/null 2>&1; } \
	  || echo "chromium could not be installed: tests/e2e/test_docs_page.py will skip"

.PHONY: test
test: lint browser ## Everything CI runs: lint, then unit, integration and end-to-end tests (schemathesis among them)
	@SCHEMATHESIS=$(CURDIR)/$(TOOLS)/bin/st $(PY) -m pytest -n 2 -q

.PHONY: build
build: $(TOOLS)/.installed ## sam build for the Lambda runtime (arm64, python3.12 on PATH)
	@PYENV_VERSION=3.12.1:3.11.7 $(TOOLS)/bin/sam build --parallel --cached

.PHONY: deploy
deploy: build ## sam deploy to STAGE=dev|prod (needs AWS credentials), then seed the knowledge table
	@$(TOOLS)/bin/sam deploy --config-env $(STAGE)
	@$(MAKE) -s knowledge-seed STAGE=$(STAGE)

.PHONY: knowledge-seed
knowledge-seed: $(VENV)/.installed ## Load seed/knowledge.json's entries the STAGE's table lacks (edits kept)
	@$(PY) scripts/knowledge.py seed --table omnihub-$(STAGE)-knowledge

.PHONY: knowledge-put
knowledge-put: $(VENV)/.installed ## Validate and write one knowledge entry: ENTRY=file.json STAGE=dev|prod
	@$(PY) scripts/knowledge.py put $(ENTRY) --table omnihub-$(STAGE)-knowledge

.PHONY: clean
clean: ## Remove build output and caches (keeps the virtual environments)
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache .hypothesis
