"""`make bench`: where eksgen's time goes, measured against the tools underneath it doing the same work.

Every measurement is a subprocess timed by wall clock, as a user would run it:

- `eksgen new` with defaults, and `eksgen validate` on that repository, BENCH_RUNS times (default 7);
- the baseline, in the same rounds (every other round in reverse order): for `new`, the `cookiecutter`
  console script rendering cookiecutter-template/ with the same context, `helm template` on the result
  and git's first commit (eksgen new makes one too, so leaving it out would charge git to eksgen); for
  `validate`, `helm template` + `kubeconform` with the flags and schemas of eksgen's kubeconform check,
  and, for context, the same plus the four linters of the hygiene check run one after another;
- a fleet of BENCH_FLEET clusters (default 50) through `eksgen new --fleet` and `eksgen validate DIR...`
  with 1 and 2 worker processes (one run each; they are long enough to be stable);
- start-up costs (interpreter, imports) and the time of each validate check, to say where time goes.

Memory is measured in a run of its own for the single commands (sampling costs CPU) and during the
one run of each fleet benchmark. "max RSS" is the peak RSS of the largest single process, exact, from
GNU time's %M (the kernel's rusage of the command and the descendants it waited for); the bench cannot
read it from its own wait4, because a child's rusage counts the RSS of the bench it was forked from.
Without /usr/bin/time it falls back to the largest sampled process. "tree RSS" is the peak of the sum
over the command and all its descendants, sampled from /proc every 10 ms (100 ms during fleet runs).
Forked workers share pages, so the tree sum overstates what they use together.

"CPU s" is the median user + system time of the command and all its descendants (from wait4): on a
shared machine it moves much less than wall time when something else competes for the cores.

Before timing, the bench checks that the baseline does the same work: cookiecutter's output must be
byte-identical to eksgen's repository outside rendered/, and helm's output, split as eksgen splits it,
identical to eksgen's rendered/. Prints a table and writes bench/results.json. Linux only (/proc, wait4).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the generator package of this checkout, also when not installed

from generator import repotemplate, resources, versions  # noqa: E402
from generator.answers import Answers  # noqa: E402
from generator.layout import CHART, VALUES  # noqa: E402
from generator.render import RELEASE, split_documents  # noqa: E402
from generator.tables import table  # noqa: E402

BIN = ROOT / ".venv" / "bin"
TOOLS = ROOT / ".tools" / "bin"
RESULTS = ROOT / "bench" / "results.json"
RUNS = max(5, int(os.environ.get("BENCH_RUNS", "7")))
FLEET_SIZE = int(os.environ.get("BENCH_FLEET", "50"))
NAME = "bench"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "eksgen-bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "eksgen-bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

Command = tuple[list[str], Path]  # argv, working directory


GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


@dataclass
class Sample:
    seconds: float  # wall time
    cpu_seconds: float  # user + system time of the command and every descendant it waited for
    max_rss_kb: int | None = None  # the largest single process, when memory was measured
    tree_rss_kb: int | None = None  # the peak sum over the process tree, when memory was measured


@dataclass
class Bench:
    name: str
    samples: list[Sample] = field(default_factory=list)  # timed runs
    memory: Sample | None = None  # the run memory was measured in
    note: str = ""

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def mib(self, kind: str) -> float | None:
        kb = getattr(self.memory, kind) if self.memory else None
        return round(kb / 1024, 1) if kb else None

    def row(self) -> list[str]:
        max_rss, tree_rss = self.mib("max_rss_kb"), self.mib("tree_rss_kb")
        return [
            self.name,
            str(len(self.samples)),
            f"{self.median:.3f}",
            f"{min(self.times):.3f}",
            f"{max(self.times):.3f}",
            f"{self.cpu:.3f}",
            f"{max_rss:.0f}" if max_rss else "-",
            f"{tree_rss:.0f}" if tree_rss else "-",
            self.note,
        ]

    def as_json(self) -> dict:
        return {
            "name": self.name.strip(),
            "runs": len(self.samples),
            "median_s": round(self.median, 4),
            "min_s": round(min(self.times), 4),
            "max_s": round(max(self.times), 4),
            "cpu_s": round(self.cpu, 4),
            "max_rss_mib": self.mib("max_rss_kb"),
            "tree_rss_mib": self.mib("tree_rss_kb"),
            "note": self.note,
            "seconds": [round(t, 4) for t in self.times],
        }


# ---- running and measuring -------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    commands: Callable[[Path], list[Command]]  # given a fresh, empty directory
    prepare: Callable[[Path], None] = lambda fresh: None  # untimed, before the commands
    ok: tuple[int, ...] = (0,)  # exit codes of a run that did its work

    def run(self, fresh: Path, env: dict[str, str], memory: float | None = None) -> Sample:
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        self.prepare(fresh)
        try:
            return measure(self.commands(fresh), env, memory=memory, ok=self.ok)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)


def environment(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(TOOLS), str(BIN), env.get("PATH", "")])
    env["EKSGEN_CACHE"] = str(cache)  # warmed by the first run, as a user's cache is
    env.pop("GITHUB_ACTIONS", None)
    return env | GIT_IDENTITY


def measure(
    commands: Sequence[Command], env: dict[str, str], memory: float | None = None, ok: Sequence[int] = (0,)
) -> Sample:
    """Run the commands one after another: their wall time and, when `memory` (a sampling interval in
    seconds) is given, the largest single-process RSS and the peak process-tree RSS of any of them."""
    total, cpu, max_rss, tree_rss = 0.0, 0.0, 0, 0
    for argv, cwd in commands:
        with tempfile.TemporaryDirectory() as tmp:
            out, rss_file = Path(tmp) / "output", Path(tmp) / "rss"
            wrapped = [GNU_TIME, "--format", "%M", "--output", str(rss_file), *argv] if memory and GNU_TIME else argv
            with out.open("wb") as sink:
                started = time.perf_counter()
                process = subprocess.Popen(
                    wrapped, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
                )
                sampler = TreeSampler(process.pid, memory, skip_root=wrapped is not argv) if memory else None
                _, status, usage = os.wait4(process.pid, 0)
                total += time.perf_counter() - started
                process.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
            if process.returncode not in ok:
                sys.exit(f"bench: {' '.join(argv)} exited {process.returncode}:\n{out.read_text()[-4000:]}")
            if sampler:
                tree, largest = sampler.stop()
                tree_rss = max(tree_rss, tree)
                max_rss = max(max_rss, int(rss_file.read_text().split()[-1]) if rss_file.exists() else largest)
    return Sample(total, cpu, max_rss or None, tree_rss or None)


class TreeSampler:
    """Peak RSS of a process tree (the sum) and of its largest process, sampled from /proc in a thread."""

    def __init__(self, pid: int, every: float, skip_root: bool = False) -> None:
        self.pid, self.every, self.skip_root = pid, every, skip_root
        self.tree = self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            sizes = tree_rss_kb(self.pid, self.skip_root)
            self.tree, self.largest = max(self.tree, sum(sizes)), max([self.largest, *sizes])
            self._stop.wait(self.every)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.tree, self.largest


def tree_rss_kb(root: int, skip_root: bool) -> list[int]:
    """The RSS of each process of the tree under `root` (the root itself unless `skip_root`: a wrapper)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:  # it exited meanwhile
            continue
        fields = text[text.rfind(b")") + 2 :].split()  # from field 3 (state) on; comm may hold spaces
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)  # field 4: ppid
        rss[pid] = int(fields[21]) * PAGE_KB  # field 24: rss in pages
    sizes, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid != root or not skip_root:
            sizes.append(rss.get(pid, 0))
        todo += children.get(pid, [])
    return sizes


# ---- the work --------------------------------------------------------------------------------


def eksgen(*args: str | Path) -> list[str]:
    return [str(BIN / "eksgen"), *map(str, args)]


def cookiecutter_inputs(work: Path, answers: Answers) -> tuple[Path, Path]:
    """A replay file and a user config that make the cookiecutter CLI render what `eksgen new` renders.

    The template reads a private dict, `_eks`, that repotemplate.template_context() computes; cookiecutter
    never prompts for private variables and has no command-line syntax for a dict. A replay file is
    the context cookiecutter itself saves after a run and loads with --replay-file instead of
    prompting, so it carries `_eks` exactly as repotemplate.render_template passes it to generate_files.
    The user config (--config-file) keeps cookiecutter's own replay and clone directories inside the
    bench's temporary directory instead of ~/.cookiecutter_replay.
    """
    context = json.loads((resources.template_dir() / "cookiecutter.json").read_text(encoding="utf-8"))
    context |= {
        "cluster_name": answers.name,
        "_eks": repotemplate.template_context(answers),
        "_template": str(resources.template_dir()),
    }
    replay = work / "replay" / "cookiecutter-template.json"
    replay.parent.mkdir(parents=True)
    replay.write_text(json.dumps({"cookiecutter": context}), encoding="utf-8")
    config = work / "cookiecutter-config.yaml"
    config.write_text(json.dumps({"replay_dir": str(work / "cc-replay"), "cookiecutters_dir": str(work / "cc-dir")}))
    return replay, config


def helm_template(repo: Path, eks_version: str) -> Command:
    """`helm template` exactly as generator.render runs it."""
    return (
        [
            str(TOOLS / "helm"),
            "template",
            RELEASE,
            str(CHART),
            "--values",
            str(VALUES),
            "--kube-version",
            f"v{eks_version}.0",
        ],
        repo,
    )


def git_first_commit(repo: Path) -> list[Command]:
    """The commands of scaffold._first_commit (minus its identity probe)."""
    return [
        (["git", "init", "--quiet", "--initial-branch=main"], repo),
        (["git", "add", "--all"], repo),
        (["git", "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", "bench"], repo),
    ]


def kubeconform_command(repo: Path) -> Command:
    """kubeconform with the flags and schema directories of eksgen's kubeconform check."""
    from generator.validate import Context, schemacache
    from generator.validate.kubeconform import MANIFESTS

    ctx = Context(repo)
    kubernetes_dir = schemacache.kubernetes_schemas(ctx.eks_version)
    custom_dir = schemacache.crd_schemas(sorted(ctx.karpenter_crd_dir().glob("*.yaml")), lambda: ctx.karpenter_crds)
    files = sorted(str(p.relative_to(repo)) for p in (repo / MANIFESTS).rglob("*.yaml"))
    return (
        [
            str(TOOLS / "kubeconform"),
            "-strict",
            "-summary",
            "-output",
            "json",
            "-schema-location",
            str(kubernetes_dir / schemacache.KUBERNETES_TEMPLATE),
            "-schema-location",
            str(custom_dir / schemacache.CRD_TEMPLATE),
            *files,
        ],
        repo,
    )


def linter_commands(repo: Path) -> list[Command]:
    """The four linters of the hygiene check, with its arguments."""
    from generator.validate.hygiene import LINTERS

    return [
        (
            [
                shutil.which(linter.name, path=os.pathsep.join([str(TOOLS), str(BIN)])) or linter.name,
                *linter.args(linter.files(repo)),
            ],
            repo,
        )
        for linter in LINTERS
    ]


def files_of(root: Path, skip: tuple[str, ...] = (".git",)) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in skip
    }


def check_baseline_is_faithful(ours: Path, theirs: Path, env: dict[str, str], eks_version: str) -> None:
    """The baseline must produce eksgen's bytes, or its time says nothing about eksgen's overhead."""
    # eksgen run from this checkout also builds its own wheel into toolchain/wheels/ (the image's
    # eksgen); cookiecutter has no counterpart, so the wheel is left out of the comparison.
    ours_files = {k: v for k, v in files_of(ours, skip=(".git", "rendered")).items() if not k.endswith(".whl")}
    if files_of(theirs) != ours_files:
        sys.exit(f"bench: cookiecutter's {theirs} differs from eksgen's {ours} (outside rendered/)")
    argv, cwd = helm_template(theirs, eks_version)
    rendered = split_documents(
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout
    )
    on_disk = {rel: text.decode() for rel, text in files_of(ours / "rendered").items()}
    if {f"rendered/{rel}": text for rel, text in on_disk.items()} != rendered:
        sys.exit("bench: helm template on cookiecutter's output differs from eksgen's rendered/")


def fleet_file(path: Path, size: int) -> Path:
    regions = ["us-west-2", "eu-west-1", "ap-southeast-2", "us-east-1"]
    clusters = [
        {
            "name": f"fleet-{i:03d}",
            "region": regions[i % len(regions)],
            "vpc-cidr": f"10.{i % 200}.0.0/16",
            "tags": {"index": str(i)},
        }
        for i in range(size)
    ]
    path.write_text(json.dumps({"defaults": {"tags": {"team": "bench"}}, "clusters": clusters}, indent=1))
    return path


# ---- the benchmark ---------------------------------------------------------------------------


def main() -> None:
    for tool in (BIN / "eksgen", BIN / "cookiecutter", TOOLS / "helm", TOOLS / "kubeconform"):
        if not tool.exists():
            sys.exit(f"bench: {tool} not found; run `make setup`")
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="eksgen-bench-"))
    try:
        report = run_all(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)} in {report['wall_seconds']:.0f}s")


def run_all(work: Path) -> dict:
    env = environment(work / "cache")
    answers = Answers.from_raw(NAME, {})
    eks = answers.k8s_version
    replay, cc_config = cookiecutter_inputs(work, answers)
    py = str(BIN / "python")

    def new(out: Path) -> Command:
        return eksgen("new", NAME, "--output-dir", out, "--no-input"), work

    def cookiecutter(out: Path) -> Command:
        return (
            [
                str(BIN / "cookiecutter"),
                str(resources.template_dir()),
                "--replay-file",
                str(replay),
                "--config-file",
                str(cc_config),
                "--output-dir",
                str(out),
            ],
            work,
        )

    # Warm-up, untimed: the schema cache, the page cache, and the checks that the baseline is faithful.
    measure([new(work / "warm")], env)
    repo = work / "warm" / NAME
    measure([(eksgen("validate", repo), work)], env)
    measure([cookiecutter(work / "warm-cc")], env)
    check_baseline_is_faithful(repo, work / "warm-cc" / NAME, env, eks)
    kubeconform = kubeconform_command(repo)
    linters = linter_commands(repo)
    validate = [(eksgen("validate", repo), work)]

    def copy_cookiecutter_output(fresh: Path) -> None:
        shutil.copytree(work / "warm-cc" / NAME, fresh / NAME)

    def python(code: str) -> Plan:
        return Plan(lambda fresh: [([py, "-c", code], ROOT)])

    # Each plan gets a fresh empty directory per run; `prepare` is untimed.
    plans = {
        "eksgen new": Plan(lambda fresh: [new(fresh)]),
        "baseline new": Plan(
            lambda fresh: [cookiecutter(fresh), helm_template(fresh / NAME, eks), *git_first_commit(fresh / NAME)]
        ),
        "  cookiecutter CLI": Plan(lambda fresh: [cookiecutter(fresh)]),
        "  helm template": Plan(lambda fresh: [helm_template(repo, eks)]),
        "  git init+add+commit": Plan(lambda fresh: git_first_commit(fresh / NAME), copy_cookiecutter_output),
        "eksgen validate": Plan(lambda fresh: validate),
        "baseline validate": Plan(lambda fresh: [helm_template(repo, eks), kubeconform]),
        "  kubeconform": Plan(lambda fresh: [kubeconform]),
        "baseline validate + 4 linters": Plan(
            lambda fresh: [helm_template(repo, eks), kubeconform, *linters], ok=(0, 1)
        ),
        "python -c pass": python("pass"),
        "python: import generator.cli": python("import generator.cli"),
        "python: + scaffold (new)": python("import generator.cli, generator.scaffold"),
        "python: + checks (validate)": python(
            "import generator.cli, generator.validate\n"
            "for m in generator.validate.CHECKS: __import__('generator.validate.' + m)"
        ),
    }
    benches = {name: Bench(name) for name in plans}
    print(f"bench: {RUNS} rounds of the single-cluster commands ...", flush=True)
    for i in range(RUNS):  # every other round in reverse, so that no command always runs after the same one
        for name, plan in plans.items() if i % 2 == 0 else reversed(plans.items()):
            benches[name].samples.append(plan.run(work / "fresh", env))
    for name, plan in plans.items():  # memory, in a run of its own (sampling costs CPU)
        benches[name].memory = plan.run(work / "fresh", env, memory=0.01)
    # where validate's time goes: each check's own time (they run concurrently)
    check_seconds: dict[str, list[float]] = {}
    for _ in range(RUNS):
        done = subprocess.run(
            eksgen("validate", repo, "--format", "json"), env=env, capture_output=True, text=True, check=True
        )
        for check in json.loads(done.stdout)["checks"]:
            check_seconds.setdefault(check["check"], []).append(check["seconds"])

    ratios = {
        "new": benches["eksgen new"].median / benches["baseline new"].median,
        "validate": benches["eksgen validate"].median / benches["baseline validate"].median,
        "validate vs all tools": benches["eksgen validate"].median / benches["baseline validate + 4 linters"].median,
    }
    benches["eksgen new"].note = f"{ratios['new']:.2f}x baseline"
    benches[
        "eksgen validate"
    ].note = f"{ratios['validate']:.2f}x baseline, {ratios['validate vs all tools']:.2f}x with linters"

    fleet = fleet_file(work / "fleet.yaml", FLEET_SIZE)
    fleet_benches: list[Bench] = []
    for jobs in (1, 2):
        print(f"bench: a fleet of {FLEET_SIZE} clusters with {jobs} worker process(es) ...", flush=True)
        out = work / f"fleet-j{jobs}"
        for verb, command in [
            ("new --fleet", eksgen("new", "--fleet", fleet, "--output-dir", out, "--jobs", jobs)),
            (
                "validate DIR...",
                eksgen("validate", *(out / f"fleet-{i:03d}" for i in range(FLEET_SIZE)), "--jobs", jobs),
            ),
        ]:
            bench = Bench(f"fleet of {FLEET_SIZE}: {verb} --jobs {jobs}")
            bench.samples.append(measure([(command, work)], env, memory=0.1))
            bench.memory = bench.samples[0]
            bench.note = f"{FLEET_SIZE / bench.median:.2f} clusters/s"
            fleet_benches.append(bench)
        shutil.rmtree(out)

    rows = [b.row() for b in [*benches.values(), *fleet_benches]]
    headers = ("BENCHMARK", "RUNS", "MEDIAN s", "MIN s", "MAX s", "CPU s", "MAX RSS MiB", "TREE RSS MiB", "NOTE")
    print()
    print("\n".join(table(headers, rows, right=(1, 2, 3, 4, 5, 6, 7))))
    print(
        "\neksgen validate, median seconds of each check (they run concurrently): "
        + ", ".join(f"{name} {statistics.median(s):.2f}" for name, s in check_seconds.items())
    )
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "helm": versions.HELM_VERSION,
            "kubeconform": versions.KUBECONFORM_VERSION,
        },
        "runs": RUNS,
        "fleet_size": FLEET_SIZE,
        "benchmarks": [b.as_json() for b in [*benches.values(), *fleet_benches]],
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "validate_check_median_s": {name: round(statistics.median(s), 4) for name, s in check_seconds.items()},
    }


if __name__ == "__main__":
    main()
