# eksgen: `make demo` and `make test` work on a fresh clone (Python 3.11+, Go, git).
SHELL := /bin/bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
TOOLS := .tools
# Pinned tool versions; generator/versions.py holds the same pins (a test keeps them equal).
HELM_VERSION := 3.16.4
KUBECONFORM_VERSION := 0.6.7
ACTIONLINT_VERSION := 1.7.12
DEMO_DIR ?= build/demo

export PATH := $(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export GOFLAGS := -trimpath

.PHONY: help setup demo test lint bench clean

help:
	@echo "make setup   virtualenv in $(VENV) and pinned helm, kubeconform, actionlint in $(TOOLS)/bin"
	@echo "make demo    set up, then generate a cluster repository with defaults into $(DEMO_DIR)"
	@echo "make test    set up, then run the test suite"
	@echo "make lint    ruff on the Python code"
	@echo "make bench   set up, then time eksgen against the tools it drives; writes bench/results.json"

setup: $(VENV)/.installed $(TOOLS)/bin/helm $(TOOLS)/bin/kubeconform $(TOOLS)/bin/actionlint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,lint]'
	touch $@

# Each tool is built once per version into its own folder; bin/ links to the pinned one, so
# changing a pin rebuilds and an unchanged pin costs nothing.
$(TOOLS)/bin/helm: $(TOOLS)/helm-v$(HELM_VERSION)/helm
$(TOOLS)/bin/kubeconform: $(TOOLS)/kubeconform-v$(KUBECONFORM_VERSION)/kubeconform
$(TOOLS)/bin/actionlint: $(TOOLS)/actionlint-v$(ACTIONLINT_VERSION)/actionlint
$(TOOLS)/bin/%:
	mkdir -p $(TOOLS)/bin
	ln -sf ../$(patsubst $(TOOLS)/%,%,$<) $@

$(TOOLS)/helm-v$(HELM_VERSION)/helm:
	GOBIN=$(CURDIR)/$(@D) go install -ldflags "-s -w \
	  -X helm.sh/helm/v3/internal/version.version=v$(HELM_VERSION) \
	  -X helm.sh/helm/v3/internal/version.metadata= \
	  -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
	  helm.sh/helm/v3/cmd/helm@v$(HELM_VERSION)

$(TOOLS)/kubeconform-v$(KUBECONFORM_VERSION)/kubeconform:
	GOBIN=$(CURDIR)/$(@D) go install -ldflags "-s -w -X main.version=v$(KUBECONFORM_VERSION)" \
	  github.com/yannh/kubeconform/cmd/kubeconform@v$(KUBECONFORM_VERSION)

$(TOOLS)/actionlint-v$(ACTIONLINT_VERSION)/actionlint:
	GOBIN=$(CURDIR)/$(@D) go install -ldflags "-s -w \
	  -X github.com/rhysd/actionlint.version=v$(ACTIONLINT_VERSION)" \
	  github.com/rhysd/actionlint/cmd/actionlint@v$(ACTIONLINT_VERSION)

demo: setup
	rm -rf $(DEMO_DIR)
	eksgen new demo-cluster --output-dir $(DEMO_DIR) --no-input
	@echo
	@echo "The demo cluster repository is $(DEMO_DIR)/demo-cluster. Look at values.yaml and rendered/,"
	@echo "then try: cd $(DEMO_DIR)/demo-cluster && EKSGEN_SCHEMAS=<schema dir> ./eks-accelerator.sh validate"
	@echo "(the schema dir holds eksctl/v0.210.0/schema.json and karpenter/v<version>/crds/, see README)"

test: setup
	pytest

lint: setup
	ruff check generator tests bench

# A benchmark, not a test: eksgen new/validate against cookiecutter, helm and kubeconform run directly,
# and a fleet of 50 clusters with 1 and 2 worker processes (BENCH_RUNS, BENCH_FLEET override the sizes).
bench: setup
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(TOOLS) build
