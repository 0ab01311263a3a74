"""The wheel is the product: built from this tree, installed into a new virtualenv outside it,
with no source tree on sys.path, it generates, validates, edits and plans a cluster repository."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import generator
from generator import versions

ROOT = Path(__file__).resolve().parents[1]
WHEEL = f"eksgen-{generator.__version__}-py3-none-any.whl"
SDIST = f"eksgen-{generator.__version__}.tar.gz"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """Wheel and sdist, built offline with the pinned build backend (hatchling, no isolation)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--target", "sdist", "--directory", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A new virtualenv holding the wheel. Its dependencies are this environment's site-packages,
    added as a plain path: `.pth` files there are not run, so the editable install's pointer to
    the source tree never reaches sys.path."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            str(dist / WHEEL),
        ],
        check=True,
    )
    return root


def _env(venv: Path) -> dict[str, str]:
    path = [str(venv / "bin"), str(ROOT / ".tools" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EKSGEN_SCHEMAS")}
    return env | {"PATH": os.pathsep.join(path)}


def test_wheel_carries_the_template_chart_schemas_and_crds(dist):
    names = set(zipfile.ZipFile(dist / WHEEL).namelist())
    template = "generator/_template/{{cookiecutter.cluster_name}}"
    for expected in [
        "generator/_template/cookiecutter.json",
        f"{template}/values.yaml",
        f"{template}/charts/eks-complete/values.schema.json",
        f"{template}/charts/eks-complete/templates/cluster-config.yaml",
        f"{template}/toolchain/Dockerfile",
        f"{template}/toolchain/wheels/README.md",
        f"generator/schemas/eksctl/v{versions.EKSCTL_VERSION}/schema.json",
        "generator/schemas/PROVENANCE.json",
        *(f"generator/schemas/karpenter/v{k}/crds/karpenter.sh_nodepools.yaml" for k in versions.KARPENTER),
        *(f"generator/schemas/karpenter/v{k}/crds/karpenter.k8s.aws_ec2nodeclasses.yaml" for k in versions.KARPENTER),
    ]:
        assert expected in names
    assert not any("__pycache__" in n for n in names)


def test_sdist_keeps_the_source_layout(dist):
    with tarfile.open(dist / SDIST) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {
        "pyproject.toml",
        "cookiecutter-template/cookiecutter.json",
        "generator/schemas/PROVENANCE.json",
        "generator/cli/__init__.py",
    } <= names


def test_the_installed_wheel_runs_from_its_own_files(venv, tmp_path):
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import generator; print(generator.__file__)"],
        cwd=tmp_path,
        env=_env(venv),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(venv)
    version = subprocess.run(
        [str(venv / "bin" / "eksgen"), "--version"], env=_env(venv), check=True, capture_output=True, text=True
    ).stdout
    assert version.strip() == f"eksgen, version {generator.__version__}"


def test_new_validate_set_plan_from_the_wheel(venv, dist, tmp_path):
    eksgen, env = str(venv / "bin" / "eksgen"), _env(venv)

    def run(*args: str, cwd: Path = tmp_path) -> str:
        done = subprocess.run([eksgen, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"eksgen {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    run("new", "from-wheel", "--no-input", "--toolchain-wheel", str(dist / WHEEL))
    repo = tmp_path / "from-wheel"
    assert (repo / "toolchain" / "wheels" / WHEEL).read_bytes() == (dist / WHEEL).read_bytes()
    report = run("validate", str(repo))
    assert [line.split()[1] for line in report.splitlines() if line.startswith("PASS")] == [
        "values",
        "render",
        "eksctl",
        "kubeconform",
        "apiserver",
        "policy",
        "hygiene",
    ]
    run("set", "--repo", str(repo), "karpenter.nodePool.limits.cpu=2000")
    assert "karpenter" in run("plan", "--repo", str(repo), "--base", "main").lower()


def test_an_installed_eksgen_without_a_wheel_leaves_the_image_to_pypi(venv, tmp_path):
    subprocess.run(
        [str(venv / "bin" / "eksgen"), "new", "released", "--no-input"],
        cwd=tmp_path,
        env=_env(venv),
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in (tmp_path / "released" / "toolchain" / "wheels").iterdir()) == ["README.md"]
