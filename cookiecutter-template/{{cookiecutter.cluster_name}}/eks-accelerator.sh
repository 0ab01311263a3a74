#!/usr/bin/env bash
# eks-accelerator.sh: the one entrypoint of this cluster repository, for people and CI alike.
# A command runs natively when eksgen and the tools it drives are on PATH, otherwise inside the
# toolchain image built from toolchain/Dockerfile (set EKS_ACCELERATOR_MODE=native|docker to choose).
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly repo_root
readonly image="eks-toolchain:local"

usage() {
  cat <<'USAGE'
Usage: ./eks-accelerator.sh COMMAND [ARGS...]

Commands:
  render     re-render rendered/ from values.yaml (helm template)
  validate   run every offline check: values, render, eksctl, kubeconform, apiserver, policy,
             hygiene (pass --only/--skip NAME[,NAME] to choose)
  plan       explain what merging this branch does to the cluster:
             plan --base REF [--format markdown|json] [--output FILE]
  deploy     make the cluster what rendered/ at HEAD says, planned from the deployed commit
             recorded on the cluster; safe to run again (deploy [--wait-timeout SECONDS])
  status     the live cluster against rendered/ (status [--format text|json])
  destroy    delete the cluster and everything deploys created: destroy --confirm CLUSTER_NAME
  environment
             print the GitHub environment deploys run in (values.yaml environment)
  deploy-ready
             whether deploys can reach AWS yet (AWS_DEPLOY_ROLE_ARN set, as the repository
             variable is after bootstrap); prints ready=true|false, and the next steps when not
  help       show this help

Environment:
  EKS_ACCELERATOR_MODE   native or docker (default: native when eksgen and the tools of the
                         command are on PATH: helm; for validate also kubeconform, kubectl-validate,
                         actionlint, zizmor, shellcheck and hadolint; for deploy, status and
                         destroy also eksctl, kubectl and aws); the choice and why go to stderr
  EKS_ACCELERATOR_IMAGE  docker: run this toolchain image instead of building toolchain/Dockerfile
  AWS_*                  docker: the credential, region and endpoint variables are passed into the
                         container (for a profile or SSO login, export them first:
                         eval "$(aws configure export-credentials --format env)")
USAGE
}

# What `eksgen validate` runs: the renderer, the validators and the linters of the hygiene check.
readonly validate_tools=(helm kubeconform kubectl-validate actionlint zizmor shellcheck hadolint)

# Variables the container gets from the caller's environment when they are set.
readonly passed_env=(
  GITHUB_ACTIONS
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
  AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
)

# The first of eksgen and the given programs that is not on PATH (nothing when all are).
missing_tool() {
  local tool
  for tool in eksgen "$@"; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      printf '%s\n' "${tool}"
      return
    fi
  done
}

# run_eksgen TOOLS -- EKSGEN_ARGS...: TOOLS are the programs the command needs natively.
run_eksgen() {
  local needed=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    needed+=("$1")
    shift
  done
  shift
  local mode="${EKS_ACCELERATOR_MODE:-}" why="EKS_ACCELERATOR_MODE=${EKS_ACCELERATOR_MODE:-}" missing
  if [[ -z "${mode}" ]]; then
    missing="$(missing_tool "${needed[@]}")"
    if [[ -z "${missing}" ]]; then
      mode=native why="eksgen and ${needed[*]} are on PATH"
    else
      mode=docker why="${missing} is not on PATH"
    fi
  fi
  case "${mode}" in
    native) echo "eks-accelerator.sh: running natively (${why})" >&2 ;;
    docker) echo "eks-accelerator.sh: running in the toolchain image (${why})" >&2 ;;
  esac
  case "${mode}" in
    native)
      (cd "${repo_root}" && eksgen "$@")
      ;;
    docker)
      local run_image="${EKS_ACCELERATOR_IMAGE:-}"
      if [[ -z "${run_image}" ]]; then
        docker build --quiet --tag "${image}" "${repo_root}/toolchain" >/dev/null
        run_image="${image}"
      fi
      local options=() name
      for name in "${passed_env[@]}"; do
        options+=(--env "${name}")
      done
      if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        # The summary file lives in the runner's directory; the container writes to the same path.
        local summary_dir
        summary_dir="$(dirname "${GITHUB_STEP_SUMMARY}")"
        options+=(--env GITHUB_STEP_SUMMARY --volume "${summary_dir}:${summary_dir}")
      fi
      # git in the container reads the mounted repository, owned by another uid; that uid has no
      # home in the image, so helm, kubectl and the aws CLI keep their caches in /tmp.
      docker run --rm --user "$(id -u):$(id -g)" --env HOME=/tmp "${options[@]}" \
        --env GIT_CONFIG_COUNT=1 --env GIT_CONFIG_KEY_0=safe.directory --env GIT_CONFIG_VALUE_0=/repo \
        --volume "${repo_root}:/repo" --workdir /repo "${run_image}" "$@"
      ;;
    *)
      echo "EKS_ACCELERATOR_MODE must be native or docker, not '${mode}'" >&2
      exit 2
      ;;
  esac
}

# values.yaml's `environment`, read by eksgen (natively, or in the toolchain image) exactly as every
# other command reads values.yaml: a workflow names the GitHub environment of its deploy job with it.
# A missing, empty or unreadable value fails here, so no job runs in an unnamed environment.
print_environment() {
  local value
  value="$(run_eksgen -- get --repo . environment)"
  if [[ -z "${value}" ]]; then
    echo "eks-accelerator.sh: values.yaml names no environment" >&2
    exit 1
  fi
  printf '%s\n' "${value}"
}

# Until the repository is bootstrapped (its deploy role variable is set), a push to main deploys
# nothing: it says what to do first, in order.
deploy_ready() {
  if [[ -n "${AWS_DEPLOY_ROLE_ARN:-}" ]]; then
    echo "ready=true"
    return
  fi
  echo "ready=false"
  local steps
  steps="$(cat <<'STEPS'
## Not deployed: this repository is not bootstrapped yet

Nothing was deployed. Before the first deploy, in this order:

1. **Bootstrap AWS once**: `eksgen bootstrap --repo .` writes `bootstrap/github-oidc.yaml` and prints
   the `aws cloudformation deploy` command that creates the GitHub OIDC roles.
2. **Set the repository variables** it prints: `AWS_DEPLOY_ROLE_ARN`, `AWS_PLAN_ROLE_ARN`, `AWS_REGION`.
3. **Create the GitHub environment** named in `values.yaml` (`environment`), with required reviewers.
4. **Push** (or re-run this workflow): the first deploy creates the cluster.
5. **Open a pull request** for every change after that: it is validated and planned before it merges.
STEPS
)"
  echo "${steps}" >&2
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf '%s\n' "${steps}" >>"${GITHUB_STEP_SUMMARY}"
  fi
}

main() {
  local command="${1:-}"
  if [[ $# -gt 0 ]]; then shift; fi
  case "${command}" in
    render) run_eksgen helm -- render --repo . "$@" ;;
    validate) run_eksgen "${validate_tools[@]}" -- validate . "$@" ;;
    plan) run_eksgen helm -- plan --repo . "$@" ;;
    deploy | status | destroy) run_eksgen helm eksctl kubectl aws -- "${command}" --repo . "$@" ;;
    environment) print_environment ;;
    deploy-ready) deploy_ready ;;
    help | -h | --help) usage ;;
    *)
      if [[ -n "${command}" ]]; then echo "unknown command: ${command}" >&2; fi
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
