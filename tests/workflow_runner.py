"""The generated workflows, run for real by act (nektos/act, built by `make setup`), offline.

act runs each job on this machine (`-P ubuntu-24.04=-self-hosted`: no Docker engine) with the
workflow's own `run:` steps; every remote action is replaced by a project-owned stand-in
(tests/actions/, matched by the full SHA the workflow pins) that does the same job locally:
checkout from a bare repository holding refs/pull/N/head and refs/pull/N/merge (with the
workflow's fetch-depth, so a missing history shows), artifacts through a folder, the sticky
comment into a file. act's own artifact and cache servers stay off the network. The toolchain
image cannot be built without a Docker engine: the build-push stand-in records it and the docker
stand-in (tests/stand_ins/docker) runs its entrypoint, eksgen, with the pinned tools of this machine,
so a job takes the path it takes on GitHub (EKS_ACCELERATOR_MODE=docker) up to the container.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACT = ROOT / ".tools" / "bin" / "act"
STAND_INS = {
    "actions/checkout": "checkout",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "marocchino/sticky-pull-request-comment": "sticky-comment",
    "docker/setup-buildx-action": "setup-buildx",
    "docker/build-push-action": "build-push",
    "aws-actions/configure-aws-credentials": "configure-aws-credentials",
}
GIT = ["git", "-c", "user.name=eksgen-test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
_JOB_END = re.compile(r"^\[(?P<workflow>[^/\]]+)/(?P<job>[^\]]+?)\s*\]\s+🏁\s+Job (?P<result>succeeded|failed)", re.M)
TIMEOUT = 600


@dataclass
class Run:
    returncode: int
    log: str
    jobs: dict[str, str]  # job id -> "succeeded" / "failed"; jobs that did not run are absent
    comments: dict[str, str] = field(default_factory=dict)  # sticky comment header -> body


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class WorkflowRunner:
    """A GitHub repository stand-in for one cluster repository: a bare remote, and act to run it."""

    def __init__(self, repo: Path, work: Path, full_name: str = "acme/demo", aws_endpoint: str = "") -> None:
        self.repo, self.work, self.full_name, self.aws_endpoint = repo, work, full_name, aws_endpoint
        self.remote = work / "remote.git"
        self.artifacts, self.comments = work / "artifacts", work / "comments"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(self.remote)], check=True)
        _git("remote", "add", "origin", f"https://github.com/{full_name}.git", cwd=repo)  # act's github.repository

    def open_pull_request(self, number: int, branch: str) -> None:
        """Push `branch` and make the refs GitHub makes for a pull request into main."""
        _git("push", "--quiet", str(self.remote), f"{branch}:refs/heads/{branch}", cwd=self.repo)
        _git("push", "--quiet", str(self.remote), f"{branch}:refs/pull/{number}/head", cwd=self.repo)
        merge = self.work / f"merge-{number}"
        subprocess.run(["git", "clone", "--quiet", str(self.remote), str(merge)], check=True)
        _git("merge", "--quiet", "--no-ff", "--no-edit", f"origin/{branch}", cwd=merge)
        _git("push", "--quiet", "origin", f"HEAD:refs/pull/{number}/merge", cwd=merge)

    def pull_request(self, number: int, branch: str, fork: bool = False, variables: dict | None = None) -> Run:
        head = f"someone/{self.full_name.split('/')[1]}" if fork else self.full_name
        event = {
            "number": number,
            "pull_request": {
                "number": number,
                "head": {"ref": branch, "repo": {"full_name": head}},
                "base": {"ref": "main", "repo": {"full_name": self.full_name}},
            },
        }
        return self._act("pull_request", event, "validate.yml", ref=f"refs/pull/{number}/merge", variables=variables)

    def push_main(self, variables: dict[str, str] | None = None) -> Run:
        _git("push", "--quiet", str(self.remote), "main:refs/heads/main", cwd=self.repo)
        event = {"ref": "refs/heads/main", "repository": {"full_name": self.full_name}}
        return self._act("push", event, "deploy.yml", ref="refs/heads/main", variables=variables or {})

    def _act(self, event_name: str, event: dict, workflow: str, ref: str, variables: dict | None = None) -> Run:
        event_file = self.work / f"{event_name}.json"
        event_file.write_text(json.dumps(event))
        home = self.work / "home"
        home.mkdir(exist_ok=True)
        args = [
            str(ACT),
            event_name,
            "-e",
            str(event_file),
            "-W",
            str(self._for_act(workflow)),
            "-P",
            "ubuntu-24.04=-self-hosted",
            "--no-skip-checkout",
            "--no-cache-server",
            "--artifact-server-addr",
            "127.0.0.1",
            "--artifact-server-port",
            "0",
            "--env",
            f"GITHUB_REF={ref}",
        ]
        for name, value in (variables or {}).items():
            args += ["--var", f"{name}={value}"]
        for uses in self._pinned_actions(workflow):
            owner_repo = uses.split("@")[0]
            args += ["--local-repository", f"{uses}={ROOT / 'tests' / 'actions' / STAND_INS[owner_repo]}"]
        env = {
            **os.environ,
            "HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true",
            "EKSGEN_TEST_REMOTE": str(self.remote),
            "EKSGEN_TEST_ARTIFACTS": str(self.artifacts),
            "EKSGEN_TEST_COMMENTS": str(self.comments),
            "EKSGEN_TEST_AWS_ENDPOINT": self.aws_endpoint,
            "EKSGEN_TEST_DOCKER": str(self.work / "docker"),
            # The docker CLI of a runner: the stand-in runs the toolchain image's eksgen with the pinned tools.
            "PATH": f"{ROOT / 'tests' / 'stand_ins'}{os.pathsep}{os.environ['PATH']}",
        }
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
        ):
            env.pop(name, None)  # a job has AWS credentials only from configure-aws-credentials
        done = subprocess.run(args, cwd=self.repo, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        log = done.stdout + done.stderr
        jobs = {m["job"].strip(): m["result"] for m in _JOB_END.finditer(log)}
        comments = {p.stem: p.read_text() for p in self.comments.glob("*.md")} if self.comments.is_dir() else {}
        return Run(done.returncode, log, jobs, comments)

    def _for_act(self, workflow: str) -> Path:
        """The workflow as act 0.2.89 reads it: its schema predates `concurrency.queue` (GitHub, 2026-05-07)
        and refuses the file; act runs no concurrency groups anyway, so the key alone is left out. The
        steps act runs, and what they check out, are the repository's own."""
        text = (self.repo / ".github" / "workflows" / workflow).read_text()
        copy = self.work / "act-workflows" / workflow
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(text.replace("\n  queue: max\n", "\n"))
        return copy

    def _pinned_actions(self, workflow: str) -> list[str]:
        """Every `uses:` of the workflow; each must have a stand-in (a new action needs one)."""
        document = yaml.safe_load((self.repo / ".github" / "workflows" / workflow).read_text())
        uses = {step["uses"] for job in document["jobs"].values() for step in job.get("steps", []) if "uses" in step}
        missing = sorted(u for u in uses if u.split("@")[0] not in STAND_INS)
        if missing:
            raise AssertionError(f"no stand-in for {missing}: add one under tests/actions/")
        return sorted(uses)
