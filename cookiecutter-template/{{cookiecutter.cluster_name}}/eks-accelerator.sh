#!/usr/bin/env bash
# eks-accelerator.sh: the one entrypoint of this cluster repository, for people and CI alike.
# A command runs natively when eksgen and helm are on PATH, otherwise inside the toolchain
# image built from toolchain/Dockerfile (set EKS_ACCELERATOR_MODE=native|docker to choose).
set -o errexit -o nounset -o pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly repo_root
readonly image="eks-toolchain:local"

usage() {
  cat <<'USAGE'
Usage: ./eks-accelerator.sh COMMAND [ARGS...]

Commands:
  render     re-render rendered/ from values.yaml (helm template)
  validate   run every offline check: values, render, eksctl, kubeconform, cel, policy,
             hygiene (pass --only/--skip NAME[,NAME] to choose)
  plan       explain what merging this branch does to the cluster:
             plan --base REF [--format markdown|json] [--output FILE]
  help       show this help

Environment:
  EKS_ACCELERATOR_MODE   native or docker (default: native when eksgen and helm are on PATH)
  EKSGEN_SCHEMAS         natively: the directory of eksctl and Karpenter schemas for validate
                         (the toolchain image has its own)
USAGE
}

have_native_tools() {
  command -v eksgen >/dev/null 2>&1 && command -v helm >/dev/null 2>&1
}

run_eksgen() {
  local mode="${EKS_ACCELERATOR_MODE:-}"
  if [[ -z "${mode}" ]]; then
    if have_native_tools; then mode=native; else mode=docker; fi
  fi
  case "${mode}" in
    native)
      (cd "${repo_root}" && eksgen "$@")
      ;;
    docker)
      docker build --quiet --tag "${image}" "${repo_root}/toolchain" >/dev/null
      # git in the container reads the mounted repository, owned by another uid.
      docker run --rm --user "$(id -u):$(id -g)" --env GITHUB_ACTIONS \
        --env GIT_CONFIG_COUNT=1 --env GIT_CONFIG_KEY_0=safe.directory --env GIT_CONFIG_VALUE_0=/repo \
        --volume "${repo_root}:/repo" --workdir /repo "${image}" "$@"
      ;;
    *)
      echo "EKS_ACCELERATOR_MODE must be native or docker, not '${mode}'" >&2
      exit 2
      ;;
  esac
}

main() {
  local command="${1:-}"
  if [[ $# -gt 0 ]]; then shift; fi
  case "${command}" in
    render) run_eksgen render --repo . "$@" ;;
    validate) run_eksgen validate . "$@" ;;
    plan) run_eksgen plan --repo . "$@" ;;
    help | -h | --help) usage ;;
    *)
      if [[ -n "${command}" ]]; then echo "unknown command: ${command}" >&2; fi
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
