# eksgen: `make demo` and `make test` work on a fresh clone (Python 3.11+, Go, git; cc for the tests).
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
EKSCTL_VERSION := 0.230.0
KUBECTL_VALIDATE_VERSION := 0.0.5-0.20260105161640-a97ccfaca20b
ACT_VERSION := 0.2.89
DEMO_DIR ?= build/demo
PY_SOURCES := generator tests bench scripts

export PATH := $(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export GOFLAGS := -trimpath

.PHONY: help setup demo test test-fast lint bench wheel image-deps schemas-check clean

help:
	@echo "make setup   virtualenv in $(VENV) and pinned helm, kubeconform, actionlint in $(TOOLS)/bin"
	@echo "make demo    set up, then generate a cluster repository with defaults into $(DEMO_DIR)"
	@echo "make test    set up, then run the test suite (in parallel)"
	@echo "make test-fast  the suite without the slow tests (wheel, eksctl matrix, workflows)"
	@echo "make lint    ruff check, ruff format --check and mypy (what CI and pre-commit run)"
	@echo "make wheel   build the wheel and sdist into dist/"
	@echo "make image-deps  prove (with PyPI) that the toolchain image's pip install resolves for musllinux"
	@echo "make schemas-check  re-derive generator/schemas/ from upstream (Go module proxy) and compare bytes"
	@echo "make bench   set up, then time eksgen against the tools it drives; writes bench/results.json"

GO_TOOLS := helm kubeconform actionlint eksctl kubectl-validate act
setup: $(VENV)/.installed $(addprefix $(TOOLS)/bin/,$(GO_TOOLS))

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
$(TOOLS)/bin/eksctl: $(TOOLS)/eksctl-v$(EKSCTL_VERSION)/eksctl
$(TOOLS)/bin/kubectl-validate: $(TOOLS)/kubectl-validate-v$(KUBECTL_VALIDATE_VERSION)/kubectl-validate
$(TOOLS)/bin/act: $(TOOLS)/act-v$(ACT_VERSION)/act
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

# eksctl's go.mod has replace directives, so `go install` refuses it: build inside a writable copy
# of the downloaded module, where they hold. The release stamp clears the "dev" pre-release id.
$(TOOLS)/eksctl-v$(EKSCTL_VERSION)/eksctl:
	mkdir -p $(@D)
	src=$$(go mod download -json github.com/weaveworks/eksctl@v$(EKSCTL_VERSION) | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') && \
	  rm -rf $(@D)/src && cp -r "$$src" $(@D)/src && chmod -R u+w $(@D)/src && \
	  cd $(@D)/src && CGO_ENABLED=0 go build -o ../eksctl -ldflags "-s -w \
	    -X github.com/weaveworks/eksctl/pkg/version.PreReleaseID= \
	    -X github.com/weaveworks/eksctl/pkg/version.gitCommit=v$(EKSCTL_VERSION)" ./cmd/eksctl
	rm -rf $(@D)/src

$(TOOLS)/kubectl-validate-v$(KUBECTL_VALIDATE_VERSION)/kubectl-validate:
	GOBIN=$(CURDIR)/$(@D) go install -ldflags "-s -w" sigs.k8s.io/kubectl-validate@v$(KUBECTL_VALIDATE_VERSION)

$(TOOLS)/act-v$(ACT_VERSION)/act:
	GOBIN=$(CURDIR)/$(@D) go install -ldflags "-s -w -X main.version=v$(ACT_VERSION)" \
	  github.com/nektos/act@v$(ACT_VERSION)

demo: setup
	rm -rf $(DEMO_DIR)
	eksgen new demo-cluster --output-dir $(DEMO_DIR) --no-input
	@echo
	@echo "The demo cluster repository is $(DEMO_DIR)/demo-cluster: look at values.yaml and rendered/."
	@echo "Validate it natively with the tools make setup built (copy the line into any shell):"
	@echo
	@echo "  cd '$(CURDIR)/$(DEMO_DIR)/demo-cluster' && PATH='$(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(VENV)/bin':\"\$$PATH\" ./eks-accelerator.sh validate"

# Two workers: the machine this project is built for has two cores.
PYTEST_WORKERS ?= 2
test: setup
	pytest -n $(PYTEST_WORKERS)

test-fast: setup
	pytest -n $(PYTEST_WORKERS) -m "not slow"

lint: setup
	ruff check $(PY_SOURCES)
	ruff format --check $(PY_SOURCES)
	mypy generator

wheel: setup
	rm -rf dist
	$(VENV)/bin/python -m hatchling build --target wheel --target sdist --directory dist

# The toolchain image installs eksgen with `pip install --only-binary=:all:` on Alpine (musl,
# Python 3.12): every dependency must come as a wheel for that platform. Asks PyPI.
IMAGE_PLATFORM := --platform musllinux_1_2_x86_64 --python-version 3.12 --implementation cp --abi cp312
image-deps: wheel
	rm -rf build/image-deps
	$(VENV)/bin/python -m pip download --disable-pip-version-check --only-binary=:all: $(IMAGE_PLATFORM) \
	  --find-links dist --dest build/image-deps "eksgen==$$($(VENV)/bin/eksgen --version | cut -d' ' -f3)" \
	  "zizmor==$$(sed -n 's/^ARG ZIZMOR_VERSION=//p' 'cookiecutter-template/{{cookiecutter.cluster_name}}/toolchain/Dockerfile')"
	@ls build/image-deps
	@echo "image-deps: every package of the toolchain image's pip install has a musllinux wheel"

schemas-check: setup
	$(VENV)/bin/python scripts/schemas.py check

# A benchmark, not a test: eksgen new/validate against cookiecutter, helm and kubeconform run directly,
# and a fleet of 50 clusters with 1 and 2 worker processes (BENCH_RUNS, BENCH_FLEET override the sizes).
bench: setup
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(TOOLS) build dist
