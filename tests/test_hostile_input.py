"""Hostile input: user strings never become options, markup, terminal control or shell syntax.

Item 1: tags follow AWS's rules, checked the same by `eksgen new` (answers.py) and by the chart's
values.schema.json (so `eksgen set` and `eksgen validate`), and reach the aws CLI only as JSON.
Item 2: every repository string in the plan comment is escaped. Item 3: the fleet table shows control
characters as escapes. Item 4: `new` quotes the `cd` line; GitHub's reserved repository names are refused;
an unknown `validate --only` check is a bad parameter (exit 2).
Item 9: every file eksgen reads as data goes through generator/repofiles.py (regular file, 4 MiB, UTF-8, no YAML
aliases): rendered/ (exit 1), --config and --fleet (a bad parameter: exit 2, naming the option and the file),
values.yaml in set/render/validate/plan (exit 1), and set's VALUEs (no anchors or aliases, bounded; exit 2).
Item 11: user- and file-system-caused failures (not a repository, dangling symlinks, a file as the target,
read-only and full file systems, EACCES, non-UTF-8 values.yaml, Ctrl-C during imports) are `Error: <file>: ...`
through the real console script, never "internal error". Item 12: eks-accelerator.sh environment asks
`eksgen get environment`. Issue 14: generator/rules.py is the one rule set of new and set; the schema agrees.
"""

from __future__ import annotations

import ast
import contextlib
import html
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import jsonschema
import pytest

from generator import fleet, rules, tables
from generator.answers import Answers
from generator.errors import AnswerError
from generator.plan import access as plan_access
from generator.plan import cluster as plan_cluster
from generator.plan import markdown
from generator.plan.model import Action, Blocker, FileDiff, Impact, KarpenterChange, Plan
from generator.scaffold import generate

SCHEMA = "charts/eks-complete/values.schema.json"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("hostile", {}), tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    copy = tmp_path / "hostile"
    shutil.copytree(pristine, copy)
    return copy


def _answers_accept(tags: dict[str, str]) -> bool:
    try:
        Answers.from_raw("ok", {"tags": tags})
    except AnswerError:
        return False
    return True


def _schema_accepts(schema: dict, tags: dict[str, str]) -> bool:
    wrapper = {"type": "object", "properties": {"tags": schema["properties"]["tags"]}}
    return jsonschema.Draft7Validator(wrapper).is_valid({"tags": tags})


# ---- item 1: tags ----------------------------------------------------------------------------

BAD_TAGS = [
    # (--tag argument, option named, value named, words of the rule)
    ("--endpoint-url=http://127.0.0.1:8799", "--tag", "--endpoint-url", "cannot start with '-'"),
    ("-x=1", "--tag", "-x", "cannot start with '-'"),
    ("file:///etc/passwd=x", "--tag", "file:///etc/passwd", "file://"),
    ("HTTPS://evil.example/k=v", "--tag", "HTTPS://evil.example/k", "https://"),
    ("team=<!--", "--tag team", "<!--", "U+003C '<'"),
    ("k<b>=v", "--tag", "k<b>", "U+003C"),
    ("team=a|b", "--tag team", "a|b", "U+007C"),
    ("team=`x`", "--tag team", "`x`", "U+0060"),
    ("team=line\nbreak", "--tag team", "line\nbreak", "control character U+000A"),
    ("team=\x1b[31mred", "--tag team", "\x1b[31mred", "control character U+001B"),
    ("team=rtl\u202eevil", "--tag team", "rtl\u202eevil", "U+202E"),
    ("team=\U0001f600", "--tag team", "\U0001f600", "U+1F600"),
    ("owner=aws:me", "--tag owner", "aws:me", "values starting with 'aws:' are reserved by AWS"),
    ("eksgen.io/deployed-commit=x", "--tag", "eksgen.io/deployed-commit", "set by eksgen, EKS"),
    ("kubernetes.io/cluster-x=y", "--tag", "kubernetes.io/cluster-x", "set by eksgen, EKS"),
    ("alpha.eksctl.io/cluster-name=y", "--tag", "alpha.eksctl.io/cluster-name", "set by eksgen, EKS"),
]


@pytest.mark.parametrize(("tag", "option", "value", "rule"), BAD_TAGS, ids=lambda v: repr(v)[:30])
def test_item_1_tags_that_break_aws_rules_or_read_as_options_are_refused(
    cli_invoke, tmp_path, tag, option, value, rule
):
    """AWS: keys 1-128 and values 0-256 characters of letters, numbers, spaces and _ . : / = + - @, no aws:
    prefix on keys or values ("Tag restrictions", AWS::EKS::FargateProfile Tag,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-eks-fargateprofile-tag.html;
    pattern [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*, https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html).
    eksgen's own: no key starting with '-' or a parameter-file prefix of the aws CLI, none of the keys eksgen,
    eksctl or Karpenter set (the EC2NodeClass CRD refuses keys starting with kubernetes.io/cluster)."""
    out = tmp_path / "out"
    result = cli_invoke("new", "ok", f"--tag={tag}", "--output-dir", out, "--no-input")
    assert result.exit_code == 2, result.output
    assert f"{option} {value!r}" in result.output
    assert rule in result.output
    assert not out.exists()


def test_item_1_tags_within_aws_rules_are_accepted_up_to_the_limit():
    """At most 50 tags per resource (EKS TagResource, "Maximum number of 50 items",
    https://docs.aws.amazon.com/goto/WebAPI/eks/TagResource); eksgen, eksctl and Karpenter add 6 of their own to
    each resource that carries the user's (see rules.ADDED_TAGS), so 44 are the user's."""
    assert rules.MAX_USER_TAGS == 44
    good = {"ключ": "значение", "Cost Center": "0100", "a.b:c/d+e-f@g_h": "x=y z", "empty": "", "日本": "東京 1"}
    assert Answers.from_raw("ok", {"tags": good}).tags == good
    most = {f"k{i}": "v" for i in range(44)}
    assert Answers.from_raw("ok", {"tags": most}).tags == most
    with pytest.raises(AnswerError, match="at most 44: AWS allows 50 tags per resource"):
        Answers.from_raw("ok", {"tags": {**most, "one-more": "v"}})
    with pytest.raises(AnswerError, match="1 to 128"):
        Answers.from_raw("ok", {"tags": {"k" * 129: "v"}})
    assert Answers.from_raw("ok", {"tags": {"k" * 128: "v" * 256}}).tags


def test_item_1_the_chart_schema_checks_tags_as_answers_do(pristine):
    """The chart's values.schema.json (what `eksgen set` and `eksgen validate` check) agrees with answers.py on
    every ASCII and C1 character, the invisible and bidirectional format characters, lengths, prefixes and the
    count. Its one gap: it cannot name Unicode's letters and numbers (Python's re has no \\p{L}), so other
    non-ASCII symbols (an emoji) pass it and only `eksgen new` refuses them."""
    schema = json.loads((pristine / SCHEMA).read_text(encoding="utf-8"))
    assert schema["properties"]["tags"]["maxProperties"] == rules.MAX_USER_TAGS
    chars = [chr(c) for c in range(0xA0)] + [
        "\u00ad",
        "\u061c",
        "\u200b",
        "\u200e",
        "\u2028",
        "\u2029",
        "\u202a",
        "\u202e",
        "\u2066",
        "\ufeff",
        "é",
        "ж",
        "日",
        "٣",
        "\u00a0",
    ]
    for char in chars:
        for tags in ({f"k{char}": "v"}, {f"{char}k": "v"}, {"k": f"v{char}"}, {"k": f"{char}v"}):
            assert _schema_accepts(schema, tags) == _answers_accept(tags), (char, tags)
    for key in (
        "aws:x",
        "AwS:x",
        "-x",
        "file://x",
        "FileB://x",
        "http://x",
        "https://x",
        "karpenter.sh/discovery",
        "karpenter.sh/nodepool",
        "eks:eks-cluster-name",
        "kubernetes.io/clusterx",
        "eksgen.io/x",
        "eksctl.cluster.k8s.io/v1alpha1/cluster-name",
        "k" * 129,
        "",
        "a=b",
    ):
        assert not _schema_accepts(schema, {key: "v"}) and not _answers_accept({key: "v"}), key
    for value in ("aws:x", "v" * 257):
        assert not _schema_accepts(schema, {"k": value}) and not _answers_accept({"k": value}), value
    assert _schema_accepts(schema, {f"k{i}": "v" for i in range(44)})
    assert not _schema_accepts(schema, {f"k{i}": "v" for i in range(45)})
    assert _schema_accepts(schema, {"k": "\U0001f600"}) and not _answers_accept({"k": "\U0001f600"})  # the gap


def test_item_1_eksgen_set_enforces_the_tag_rules_and_helm_reads_the_schema(cli_invoke, repo):
    """`eksgen set` checks the schema (Python's jsonschema), then helm renders with it (Go's regexp): a good edit
    passing proves helm compiles the patterns; a hostile one changes nothing."""
    values = (repo / "values.yaml").read_bytes()
    for edit in (
        "tags={--endpoint-url: 'http://127.0.0.1:8799'}",
        "tags={team: '<!--'}",
        "tags={'file://x': y}",
        "tags={team: 'aws:x'}",
        "tags={" + ", ".join(f"k{i}: v" for i in range(45)) + "}",
    ):
        result = cli_invoke("set", "--repo", repo, edit)
        assert result.exit_code == 2, (edit, result.output)
        assert (repo / "values.yaml").read_bytes() == values
    result = cli_invoke("set", "--repo", repo, "tags={ключ: значение, 'Cost Center': 'a=b c:d/e+f-g@h_i'}")
    assert result.exit_code == 0, result.output
    assert '"ключ": "значение"' in (repo / "rendered/eksctl/cluster.yaml").read_text(encoding="utf-8")


HOSTILE_KEYS = ["--endpoint-url=http://127.0.0.1:{port}", "file:///etc/hostname", "team", "--debug", "[a]"]


def _listener() -> tuple[int, list[object], threading.Event]:
    """A loopback port that records every connection (and closes it at once)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        with server:
            while not stop.is_set():
                try:
                    conn, address = server.accept()
                except TimeoutError:
                    continue
                seen.append(address)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], seen, stop


def test_item_1_the_plan_gives_tags_to_the_real_aws_cli_as_json_only(aws):
    """The tag actions of a plan, run by the real aws CLI (v1, from the test extra) against moto: keys that would
    be options (`--endpoint-url=...`, `--debug`) or parameter files (`file://...`) are tagged and untagged as the
    data they are, and nothing reaches the port the hostile key names. The old argv form (keys as words of their
    own after --tag-keys) sends the request there instead."""
    port, seen, stop = _listener()
    keys = [k.format(port=port) for k in HOSTILE_KEYS]
    eks = aws.client("eks")
    arn = eks.create_cluster(name="demo", roleArn=f"arn:aws:iam::{aws.account_id}:role/r", resourcesVpcConfig={})[
        "cluster"
    ]["arn"]
    tags = {k: f"http://127.0.0.1:{port}/{i}" for i, k in enumerate(keys)}
    (tag,) = plan_access.tags({"metadata": {"tags": {}}}, {"metadata": {"tags": tags}}, "demo", aws.region)
    (untag,) = plan_access.tags({"metadata": {"tags": tags}}, {"metadata": {"tags": {}}}, "demo", aws.region)
    for action in (tag, untag):
        words = action.command[action.command.index("{cluster_arn}") + 1 :]
        assert words in (["--tags", json.dumps(tags, sort_keys=True)], ["--tag-keys=" + json.dumps(sorted(keys))])
    env = {**aws.env, "AWS_MAX_ATTEMPTS": "1"}

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        argv = [a.replace("{cluster_arn}", arn) for a in command]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)

    try:
        result = run(tag.command)
        assert result.returncode == 0, result.stderr
        assert eks.describe_cluster(name="demo")["cluster"]["tags"] == tags
        result = run(["aws", "--debug", *untag.command[1:]])  # --debug: the request, as botocore makes it
        assert result.returncode == 0, result.stderr
        request = r"OperationModel\(name=UntagResource\) with params: .*'tagKeys': (\[.*?\])\}, 'method'"
        (sent,) = re.findall(request, result.stderr)
        assert ast.literal_eval(sent) == sorted(keys)
        # moto 5.2 removes only the first of several tagKeys (a gap in moto; the request above has them all).
        assert sorted(keys)[0] not in eks.describe_cluster(name="demo")["cluster"]["tags"]
        assert seen == []
        old = [
            "aws",
            "eks",
            "untag-resource",
            "--region",
            aws.region,
            "--resource-arn",
            arn,
            "--tag-keys",
            "team",
            keys[0],
        ]
        run(old)
        assert seen, "the old form should have sent the request to the hostile key's endpoint"
    finally:
        stop.set()


# ---- item 2: the plan comment ------------------------------------------------------------------

HOSTILE = "x<!-- hidden ](http://x) # h | `tick` ``two`` *b* _i_ ~s~ ![i](http://x/i.png) <b>&amp;\\"


def _hostile_plan() -> Plan:
    tags = {"team": HOSTILE, HOSTILE: "v"}
    actions, _ = plan_cluster.changes(
        {"metadata": {"name": "c", "region": "us-west-2", "tags": {"old|key": "v"}}},
        {"metadata": {"name": "c", "region": "us-west-2", "tags": tags}},
    )
    actions.append(
        Action(
            "manifests",
            f"apply {HOSTILE}",
            ["kubectl", "apply", "-f", HOSTILE],
            disruptive=True,
            detail=f"detail {HOSTILE}\nsecond line",
        )
    )
    diff = f"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-{HOSTILE}\n+```\n ```\n ````\n+</details>\n"
    return Plan(
        base=f"main{HOSTILE}",
        head=HOSTILE,
        cluster=f"c{HOSTILE}",
        files=[FileDiff(f"rendered/{HOSTILE}.yaml", "modified", diff, 3, 1)],
        actions=actions,
        blockers=[Blocker(f"managedNodeGroups[{HOSTILE}].x", HOSTILE, [HOSTILE], f"why {HOSTILE}", f"do {HOSTILE}")],
        karpenter=KarpenterChange(
            impacts=[Impact(f"NodePool/{HOSTILE}", HOSTILE, "drift", HOSTILE)],
            budgets=[{"nodePool": HOSTILE, "budgets": [{"nodes": HOSTILE}]}],
            version={"from": "1.0", "to": HOSTILE, "crds": HOSTILE},
        ),
    )


def test_item_2_repository_strings_in_the_plan_comment_are_text(pristine):
    """Rendered as CommonMark with GFM tables (markdown-it-py, which GitHub's renderer, cmark-gfm, agrees with
    here; https://github.github.com/gfm/): the only HTML comment is eksgen's marker, there are no links,
    images, emphasis or headings from the strings, every table row keeps its cells, the diff stays in its code
    block, and every string still reads as it was written."""
    markdown_it = pytest.importorskip("markdown_it")
    text = markdown.render(_hostile_plan())
    page = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert page.count("<!--") == 1 and text.startswith(markdown.MARKER + "\n")
    for tag in ("<a ", "<img", "<em>", "<s>", "<h1>", "<b>", "<script"):
        assert tag not in page, tag
    assert [h for _, h in re.findall(r"<h(\d)>(.*?)</h\1>", page)][1:] == [
        "Blocking",
        "Cluster actions",
        "Karpenter impact",
        "Rendered diff",
    ]
    for table in re.findall(r"<table>.*?</table>", page, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        widths = {len(re.findall(r"<t[hd]>", row)) for row in rows}
        assert len(widths) == 1, table
    (code,) = re.findall(r'<pre><code class="language-diff">(.*?)</code></pre>', page, re.S)
    assert html.unescape(code) == _hostile_plan().files[0].diff
    assert page.count("<details>") == 1 and page.count("</details>") == 1
    assert page.count(html.escape(HOSTILE, quote=False)) >= 10, "the strings read as written"
    assert "second line" in page and "\\nsecond line" in html.unescape(page)


def test_item_2_one_escape_for_text_code_and_fences():
    """Code spans cannot hold a backtick or, in a table, a '|' (GFM splits cells first): such strings become
    <code> with character references, which work in text, table cells and HTML blocks alike."""
    assert markdown.escape("plain text: a -> b") == "plain text: a -> b"
    assert markdown.escape("<!-- [x](y) *a* |") == "&#60;&#33;-- &#91;x&#93;(y) &#42;a&#42; &#124;"
    assert markdown.escape("a\nb\x1b[0m\u202e") == "a&#92;nb&#92;x1b&#91;0m&#92;u202e"
    assert markdown.escape("kubectl apply -f x.yaml", "code") == "`kubectl apply -f x.yaml`"
    assert markdown.escape("a`b", "code") == "<code>a&#96;b</code>"
    assert markdown.escape("a|b", "code") == "<code>a&#124;b</code>"
    assert markdown.escape(" padded ", "code") == "<code> padded </code>"
    assert markdown.escape("x\n`````y", "block") == "``````"
    assert markdown.escape("no ticks", "block") == "```"


def test_item_2_a_plan_of_a_real_repository_with_hostile_tags(cli_invoke, repo):
    """End to end: a pull request that loosens its chart's schema and sets tags with markup by hand still gets a
    comment with the tags escaped (the plan runs on whatever the pull request holds)."""
    schema = json.loads((repo / SCHEMA).read_text(encoding="utf-8"))
    schema["properties"]["tags"] = {"type": "object"}
    (repo / SCHEMA).write_text(json.dumps(schema), encoding="utf-8")
    values = repo / "values.yaml"
    values.write_text(
        values.read_text(encoding="utf-8").replace("tags: {}", 'tags: {"t<!--": "](http://x) # h | `x`"}'),
        encoding="utf-8",
    )
    assert cli_invoke("render", "--repo", repo).exit_code == 0
    result = cli_invoke("plan", "--base", "HEAD", "--repo", repo)
    assert result.exit_code == 0, result.output
    assert "tag the cluster: t&#60;&#33;--" in result.output
    page = (
        pytest.importorskip("markdown_it")
        .MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .render(result.output)
    )
    assert page.count("<!--") == 1 and "<a " not in page and "<h1>" not in page


# ---- item 3: the fleet table -------------------------------------------------------------------


def test_item_3_control_characters_in_fleet_names_are_shown_escaped():
    """Names and paths with a newline, a carriage return, ANSI escapes (ESC and the 8-bit CSI), a bidi override
    or a line separator print as Python escapes: one row per cluster, nothing a terminal acts on."""
    evil = "prod\n\x1b[31mFAKE  created\r\x9b2J\u202e\u2028x"
    report = fleet.FleetReport(
        [
            fleet.ClusterResult(evil, 0.1, error=f"--region {evil!r}: bad\nsecond {evil}"),
            fleet.ClusterResult("ok", 0.2, path=Path("/out") / evil),
        ],
        0.3,
        1,
    )
    lines = report.lines()
    assert all(c.isprintable() for line in lines for c in line), lines
    assert lines[1].startswith("prod\\n\\x1b[31mFAKE  created\\r\\x9b2J\\u202e\\u2028x  FAILED")
    assert lines[2].endswith("/out/prod\\n\\x1b[31mFAKE  created\\r\\x9b2J\\u202e\\u2028x")
    # header, 2 rows, totals; then the error in full: blank, subject, its 3 lines (split at its raw newline only)
    assert lines[4:] == [
        "",
        "prod\\n\\x1b[31mFAKE  created\\r\\x9b2J\\u202e\\u2028x:",
        "  --region 'prod\\n\\x1b[31mFAKE  created\\r\\x9b2J\\u202e\\u2028x': bad",
        "  second prod",
        "  \\x1b[31mFAKE  created\\r\\x9b2J\\u202e\\u2028x",
    ]
    assert tables.printable("C:\\dir é 日") == "C:\\dir é 日"


# ---- item 4: new's next steps, GitHub names, validate --only ---------------------------------------


def test_item_4_the_cd_line_of_new_is_shell_quoted(cli_invoke, tmp_path):
    """The printed `cd` runs as shown, for any output directory (shlex.quote)."""
    out = tmp_path / "it's $(touch pwned) dir"
    result = cli_invoke("new", "ok", "--output-dir", out, "--no-input")
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("  cd ")]
    assert shlex.split(line) == ["cd", str(out / "ok")]
    assert line == f"  cd {shlex.quote(str(out / 'ok'))}"


@pytest.mark.parametrize(
    ("repo", "rule"),
    [
        ("acme/..", "reserves the repository name '..'"),
        ("acme/.", "reserves the repository name '.'"),
        ("acme/infra.git", "cannot end in .git or .wiki"),
        ("acme/infra.WIKI", "cannot end in .git or .wiki"),
    ],
)
def test_item_4_github_repository_names_github_refuses_are_refused(cli_invoke, tmp_path, repo, rule):
    """GitHub reserves '.' and '..' ("The repository . is reserved", dead-claudia/github-limits pull request #5)
    and strips .git / refuses .wiki at the end of a name (github/docs issue #44518); names are ASCII letters,
    digits, '.', '-' and '_', at most 100."""
    out = tmp_path / "out"
    result = cli_invoke("new", "ok", "--github-repo", repo, "--output-dir", out, "--no-input")
    assert result.exit_code == 2, result.output
    assert f"--github-repo {repo!r}" in result.output and rule in result.output
    assert not out.exists()
    for fine in ("acme/...", "acme/.github", "acme/a.b-c_d", "acme/" + "x" * 100):
        assert Answers.from_raw("ok", {"github-repo": fine}).github_repo == fine


@pytest.mark.parametrize("option", ["--only", "--skip"])
def test_item_4_an_unknown_check_is_a_bad_parameter(cli_invoke, tmp_path, option):
    """Exit 2 (a bad parameter, as the CLI's exit codes say), naming the option, for one repository or several."""
    for repos in ([tmp_path], [tmp_path, tmp_path]):
        result = cli_invoke("validate", *repos, option, "values,nope")
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{option}': unknown check 'nope'; the checks are values," in result.output


def test_item_2_the_deploy_summary_escapes_what_it_shows_too():
    """The deploy's job summary is GitHub markdown as well: a note with a link or a cell break shows as
    text, names and commands sit in code spans (where `<!--` is text), and an error block's fence is
    longer than any backtick run in it (generator/markdown_text.py, as for the plan)."""
    from generator.deploy.report import Report, StepResult

    step = StepResult(
        "tags",
        "tag the cluster",
        "changed",
        commands=["aws eks tag-resource --tags <!--"],
        notes=["[x](http://example.com) | # h"],
    )
    lines = Report("deploy", cluster="demo<!--", steps=[step], error="```\n<!-- hidden").markdown().split("\n")
    assert lines[0] == "## eksgen deploy `demo<!--`: FAILED: &#96;&#96;&#96;"
    (row,) = [line for line in lines if line.startswith("| tag the cluster")]
    assert "&#91;x&#93;(http://example.com) &#124; # h" in row and "`aws eks tag-resource --tags <!--`" in row
    start = lines.index("```")  # the error itself opens with three backticks...
    assert lines[start - 1].startswith("````") and lines[start + 2] == lines[start - 1]  # ...inside a longer fence


def test_item_5_new_keys_that_yaml_1_1_would_retype_are_quoted(tmp_path):
    """`eksgen set tags.yes=x tags.on=y tags.no=z`: YAML 1.1 readers (helm's, PyYAML) read unquoted
    yes/on/no as booleans, so two keys would collapse into `true` and a tag would be lost."""
    import yaml as pyyaml

    from generator.answers import Answers
    from generator.scaffold import generate
    from generator.values_edit import set_values

    repo = generate(Answers.from_raw("keys", {}), tmp_path)
    set_values(repo, ["tags.yes=x", "tags.on=y", "tags.no=z", "tags.0123=w", "tags.team=t"])
    text = (repo / "values.yaml").read_text()
    assert '"yes": "x"' in text and '"on": "y"' in text and '"no": "z"' in text and '"0123": "w"' in text
    assert "team: " in text  # a key that reads as itself stays plain
    assert pyyaml.safe_load(text)["tags"] == {"yes": "x", "on": "y", "no": "z", "0123": "w", "team": "t"}
    rendered = pyyaml.safe_load((repo / "rendered/eksctl/cluster.yaml").read_text())
    assert {"yes", "on", "no", "0123", "team"} <= set(rendered["metadata"]["tags"])


# ---- items 9 and 10: what a pull request can put in rendered/ ------------------------------------------
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
)


@pytest.fixture
def rendered_repo(tmp_path):
    from generator.answers import Answers
    from generator.scaffold import generate

    return generate(Answers.from_raw("hostile", {}), tmp_path)


@pytest.mark.parametrize("plant", ["alias-bomb", "symlink-out", "fifo", "not-utf8"])
def test_item_9_and_10_validate_and_plan_read_only_the_repositorys_own_small_files(
    rendered_repo, tmp_path, plant, cli_invoke
):
    """A 417-byte alias bomb grows to gigabytes when expanded; a symlink to /dev/zero or out of the
    repository, or a FIFO, never ends or leaks another file. rendered/ is read as regular files inside
    the repository, bounded, and YAML without aliases (helm writes none), or the command fails with
    the file named."""
    target = rendered_repo / "rendered" / "manifests" / "extra.yaml"
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    if plant == "alias-bomb":
        target.write_text(ALIAS_BOMB)
    elif plant == "symlink-out":
        target.symlink_to(secret)
    elif plant == "fifo":
        os.mkfifo(target)
    else:
        target.write_bytes(b"kind: \xff\xfe\n")
    for args in (
        ["validate", rendered_repo, "--only", "apiserver"],
        ["plan", "--repo", rendered_repo, "--base", "main"],
    ):
        result = cli_invoke(*args)
        assert result.exit_code == 1, result.output
        assert "rendered/manifests/extra.yaml" in result.output, result.output
        assert "top secret" not in result.output and "internal error" not in result.output


# ---- item 9: --config, --fleet, values.yaml and set values, through the one reader (repofiles) --------------
def _plant(path: Path, kind: str) -> Path:
    """A file as a hostile or careless user leaves it: an alias bomb, a huge file, a device behind a
    symlink, a FIFO, a directory, bytes that are not UTF-8, a symlink to nothing."""
    if kind == "alias-bomb":
        path.write_text(ALIAS_BOMB)
    elif kind == "huge":
        path.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "not-utf8":
        path.write_bytes(b"region: \xff\xfe\n")
    elif kind == "dangling":
        path.symlink_to(path.parent / "nowhere")
    return path


GIVEN_FILE_CAUSES = {
    "alias-bomb": "uses a YAML alias (*a)",
    "huge": "bytes; eksgen reads files of at most 4194304",
    "dev-zero": "is a device, not a regular file",
    "fifo": "is a FIFO, not a regular file",
    "directory": "is a directory",  # click's own check of the parameter
    "not-utf8": "is not UTF-8 text (byte 8)",
    "dangling": "is a symlink to nothing (dangling)",
}


def _eksgen(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """eksgen as the console script runs it: generator.entry, then cli.main, the one error boundary."""
    import sys

    return subprocess.run(
        [sys.executable, "-m", "generator", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("option", ["--config", "--fleet"])
@pytest.mark.parametrize("kind", list(GIVEN_FILE_CAUSES))
def test_item_9_config_and_fleet_files_are_read_bounded_and_alias_free(tmp_path, option, kind):
    """A file named by --config or --fleet may be reached through a symlink, but must end at a regular file of at
    most 4 MiB of UTF-8 YAML without aliases (the 417-byte billion laughs grows to gigabytes). Each fails fast
    (a FIFO or /dev/zero would never end) as a bad parameter, exit 2, naming the option, the file and the cause."""
    path = _plant(tmp_path / "answers.yaml", kind)
    by_click = kind == "dangling" and option == "--fleet"  # click.Path(exists=True) refuses it itself
    out = tmp_path / "out"
    args = ["new", "ok", "--no-input"] if option == "--config" else ["new"]
    result = _eksgen(*args, option, path, "--output-dir", out, timeout=30)
    assert result.returncode == 2, result.stderr
    cause = "does not exist" if by_click else GIVEN_FILE_CAUSES[kind]
    assert str(path) in result.stderr and cause in result.stderr, result.stderr
    if kind != "directory" and not by_click:
        assert f"Error: {option} '{path}': " in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_item_9_a_config_file_through_a_symlink_to_a_regular_file_is_read(cli_invoke, tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("region: eu-west-1\n")
    (tmp_path / "link.yaml").symlink_to(real)
    result = cli_invoke("new", "ok", "--config", tmp_path / "link.yaml", "--output-dir", tmp_path / "out", "--no-input")
    assert result.exit_code == 0, result.output
    assert "eu-west-1" in (tmp_path / "out" / "ok" / "values.yaml").read_text()


VALUES_CAUSES = {
    "alias-bomb": "values.yaml: uses a YAML alias (*a)",
    "huge": "values.yaml: is 5242883 bytes",
    "dev-zero": "values.yaml: is a symlink out of the repository",
    "fifo": "values.yaml: is a FIFO, not a regular file",
    "not-utf8": "values.yaml: is not UTF-8 text (byte 8)",
    "symlink-out": "values.yaml: is a symlink out of the repository",
}


@pytest.mark.parametrize("kind", list(VALUES_CAUSES))
def test_item_9_values_yaml_is_read_by_the_same_reader_in_every_command(repo, tmp_path, kind):
    """values.yaml comes with a pull request: set, render, validate and plan read it as a regular file of the
    repository (a symlink only to another of its files), bounded, UTF-8, alias-free; exit 1 naming it."""
    values = repo / "values.yaml"
    values.unlink()
    if kind == "symlink-out":
        secret = tmp_path / "secret.yaml"
        secret.write_text("top: secret\n")
        values.symlink_to(secret)
    else:
        _plant(values, kind)
    for args in (
        ["set", "--repo", repo, "karpenter.nodePool.limits.cpu=2000"],
        ["render", "--repo", repo],
        ["validate", repo, "--only", "values"],
        ["plan", "--repo", repo, "--base", "main"],
    ):
        result = _eksgen(*args, timeout=60)
        output = result.stdout + result.stderr
        assert result.returncode == 1, (args, output)
        assert VALUES_CAUSES[kind] in output, (args, output)
        assert "internal error" not in output and "Traceback" not in output and "secret" not in output


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("*a", "YAML anchors and aliases are not values"),
        ("&a x", "YAML anchors and aliases are not values"),
        ("{a: &a [x, x], b: *a}", "YAML anchors and aliases are not values"),
        ("[" * 200 + "]" * 200, "nests deeper than 64 levels"),
        ("x" * (64 * 1024 + 1), "65537 characters; at most 65536"),
    ],
    ids=["alias", "anchor", "anchor-and-alias", "deep", "huge"],
)
def test_item_9_set_values_with_anchors_aliases_or_no_bounds_are_refused(cli_invoke, repo, value, rule):
    """`eksgen set KEY=VALUE` reads VALUE as YAML: an anchor or alias is refused (quote it to mean the text:
    tags.team='"*a"'), as are a value nested deeper than values.yaml ever is and one longer than 64 KiB."""
    before = (repo / "values.yaml").read_bytes()
    result = cli_invoke("set", "--repo", repo, f"tags.team={value}")
    assert result.exit_code == 2, result.output
    assert "tags.team" in result.output and rule in result.output
    assert (repo / "values.yaml").read_bytes() == before
    quoted = cli_invoke("set", "--repo", repo, 'tags.team="*a"')  # the text *a, which the tag rules then judge
    assert quoted.exit_code == 2 and "'*a'" in quoted.output and "anchors" not in quoted.output, quoted.output


# ---- item 11: what the user or the file system causes is an Error naming the file, never an internal error ---
@contextlib.contextmanager
def _tmpfs(where: Path, *options: str):
    """A tiny file system of its own (full after a few kilobytes, or read-only), where the machine allows
    mounting one (root with CAP_SYS_ADMIN); the test is skipped elsewhere."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(["size=64k", *options]), "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _case_set_not_a_repo(tmp_path, pristine):
    (tmp_path / "plain").mkdir()
    return ["set", "--repo", tmp_path / "plain", "tags.team=x"], 1, f"{tmp_path / 'plain'}"


def _case_set_missing_repo(tmp_path, pristine):
    return ["set", "--repo", tmp_path / "nope", "tags.team=x"], 2, f"{tmp_path / 'nope'}"


def _case_output_dir_dangling(tmp_path, pristine):
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    return ["new", "ok", "--no-input", "--output-dir", tmp_path / "out"], 1, f"{tmp_path / 'out'}"


def _case_target_is_a_file(tmp_path, pristine):
    (tmp_path / "ok").write_text("mine\n")
    return ["new", "ok", "--no-input", "--output-dir", tmp_path], 1, f"{tmp_path / 'ok'}"


def _case_target_dangling(tmp_path, pristine):
    (tmp_path / "ok").symlink_to(tmp_path / "gone")
    return ["new", "ok", "--no-input", "--output-dir", tmp_path], 1, f"{tmp_path / 'ok'}"


def _case_values_not_utf8(tmp_path, pristine):
    repo = tmp_path / "repo"
    shutil.copytree(pristine, repo)
    (repo / "values.yaml").write_bytes(b"clusterName: \xff\n")
    return ["validate", repo, "--only", "values,policy"], 1, "values.yaml"


def _case_unknown_check(tmp_path, pristine):
    return ["validate", tmp_path, "--only", "nope"], 2, "'--only'"


FILE_SYSTEM_CASES = {
    "set --repo: not a cluster repository": _case_set_not_a_repo,
    "set --repo: does not exist": _case_set_missing_repo,
    "new --output-dir: a dangling symlink": _case_output_dir_dangling,
    "new: the target is a file": _case_target_is_a_file,
    "new: the target is a dangling symlink": _case_target_dangling,
    "validate: values.yaml is not UTF-8": _case_values_not_utf8,
    "validate --only nope": _case_unknown_check,
}


@pytest.mark.parametrize("case", list(FILE_SYSTEM_CASES))
def test_item_11_user_caused_failures_are_errors_naming_the_file(pristine, tmp_path, case):
    """Through the real console script (generator.entry, cli.main's boundary): exit 1 for what cannot be done,
    2 for a bad parameter, the file named, never "internal error", nothing of the user's overwritten."""
    args, code, named = FILE_SYSTEM_CASES[case](tmp_path, pristine)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    result = _eksgen(*args)
    output = result.stdout + result.stderr  # validate reports a check's findings on stdout
    assert result.returncode == code, output
    assert "Error:" in result.stderr and named in output, output
    assert "internal error" not in output and "Traceback" not in output
    assert {p: p.read_bytes() for p in before} == before


def test_item_11_a_read_only_output_directory(tmp_path):
    with _tmpfs(tmp_path / "ro", "ro") as read_only:
        result = _eksgen("new", "ok", "--no-input", "--output-dir", read_only)
    assert result.returncode == 1, result.stderr
    assert f"Error: {read_only}" in result.stderr and "Read-only file system" in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def test_item_11_a_full_disk_leaves_nothing_half_written(tmp_path, pristine):
    """A 64 KiB tmpfs fills up while `new` writes the repository (ENOSPC from the kernel, not simulated): the
    error names the file, the staging directory is gone and no target appears. `plan --output` onto the full
    file system keeps the old plan file whole (transaction.write_file)."""
    with _tmpfs(tmp_path / "full") as full:
        result = _eksgen("new", "ok", "--no-input", "--output-dir", full)
        assert result.returncode == 1, result.stderr
        assert "No space left on device" in result.stderr and str(full) in result.stderr, result.stderr
        assert "internal error" not in result.stderr
        assert list(full.iterdir()) == []
        old = full / "plan.md"
        old.write_text("old plan\n")
        with contextlib.suppress(OSError), open(full / "filler", "wb") as filler:  # fill it to the last byte
            while True:
                filler.write(b"x" * 4096)
                filler.flush()
        result = _eksgen("plan", "--repo", pristine, "--base", "main", "--output", old)
        assert result.returncode == 1, result.stderr
        assert "No space left on device" in result.stderr and "internal error" not in result.stderr
        assert f"Error: {old}: No space left on device" in result.stderr  # the file is named
        assert old.read_text() == "old plan\n"


def test_item_11_values_yaml_that_cannot_be_opened_is_named(monkeypatch, capsys, repo):
    """Permission denied reading values.yaml. Tests run as root here (a chmod 000 file stays readable), so the
    kernel's EACCES is raised for that one path by a patched os.open; the path through eksgen is the real one."""
    from generator import cli

    real_open = os.open

    def denying(path, flags, *args, **kwargs):
        if Path(path).name == "values.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying)
    monkeypatch.setattr("sys.argv", ["eksgen", "set", "--repo", str(repo), "tags.team=x"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 1, err
    assert "Error: values.yaml: cannot read it (Permission denied)" in err and "internal error" not in err


def test_item_11_a_non_utf8_eksgen_yaml_is_named(repo):
    (repo / ".eksgen.yaml").write_bytes(b"answers:\n  github-repo: \xff\n")
    result = _eksgen("bootstrap", "--repo", repo, "--legacy-subject")
    assert result.returncode == 1 and ".eksgen.yaml" in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def test_item_11_ctrl_c_while_python_imports_the_command_line():
    """The console script is generator.entry:main, which imports the command line inside its own handler: a
    Ctrl-C while click or ruamel.yaml load prints one line and exits 130, with no traceback. Here the Ctrl-C
    arrives at a fixed moment (the import of ruamel.yaml). Not covered, and not coverable in Python: a Ctrl-C
    during the interpreter's own start-up or the import of generator/__init__.py and generator/entry.py."""
    import sys

    tomllib = __import__("tomllib")
    scripts = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"eksgen": "generator.entry:main"}
    program = (
        "import sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ruamel.yaml':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "from generator.entry import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", program, "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (130, "\ninterrupted\n")


# ---- issue 14: one rule set (generator/rules.py) for new, set and the chart's schema ---------------------------
AGREEMENT = [
    # (answer of `new`, its values.yaml key, the value)
    ("vpc-cidr", "vpc.cidr", "8.8.0.0/16"),
    ("vpc-cidr", "vpc.cidr", "10.0.0.0/8"),
    ("vpc-cidr", "vpc.cidr", "10.0.0.0/24"),
    ("vpc-cidr", "vpc.cidr", "10.0.0.1/16"),
    ("vpc-cidr", "vpc.cidr", "172.20.0.0/16"),
    ("tags", "tags", {"team": "\U0001f600"}),
    ("tags", "tags", {"\U0001f600": "x"}),
    ("tags", "tags", {"aws:x": "y"}),
    ("tags", "tags", {"ключ": "значение"}),
    ("environment", "environment", "prod/eu"),
    ("environment", "environment", "prod eu"),
    ("aws-account-id", "awsAccountId", "12345678901"),
    ("aws-account-id", "awsAccountId", "123456789012"),
]


@pytest.mark.parametrize(("answer", "key", "value"), AGREEMENT, ids=lambda v: repr(v)[:24])
def test_issue_14_set_accepts_exactly_what_new_accepts(cli_invoke, repo, answer, key, value):
    """`eksgen set` runs the answer-level rules of `eksgen new` (rules.check_values) after the schema: a public
    CIDR (8.8.0.0/16) or an emoji tag, which the schema cannot express, are refused by both, with the same rule.
    AWS's tag rules: keys 1-128 and values 0-256 characters of [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@], no aws: prefix,
    at most 50 per resource ("Tagging AWS resources", https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html;
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html)."""
    try:
        Answers.from_raw("ok", {answer: value})
        new_error = None
    except AnswerError as exc:
        new_error = exc.rule
    text = json.dumps(value, ensure_ascii=False)
    result = cli_invoke("set", "--repo", repo, f"{key}={text}")
    if new_error is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, result.output
        assert new_error in result.output or "should not be valid" in result.output or "does not match" in result.output


def test_issue_14_the_chart_schema_states_the_rules_of_rules_py(pristine):
    """The chart's values.schema.json (helm and `eksgen validate` read it) carries rules.py's patterns and limits;
    this fails when one of them changes without the other."""
    from generator import rules

    schema = json.loads((pristine / SCHEMA).read_text(encoding="utf-8"))
    props = schema["properties"]
    assert props["clusterName"]["pattern"] == rules.CLUSTER_NAME.pattern
    assert props["clusterName"]["maxLength"] == rules.MAX_CLUSTER_NAME
    assert props["environment"]["pattern"] == rules.ENVIRONMENT.pattern
    digits = rules.ACCOUNT_ID.pattern.removeprefix("^").removesuffix("$")
    assert props["awsAccountId"]["pattern"] == f"^({digits})?$"  # empty: no account yet
    assert props["managedNodeGroup"]["properties"]["instanceType"]["pattern"] == rules.INSTANCE_TYPE.pattern
    tags = props["tags"]
    assert tags["maxProperties"] == rules.MAX_USER_TAGS
    assert (tags["propertyNames"]["minLength"], tags["propertyNames"]["maxLength"]) == (1, rules.MAX_TAG_KEY)
    assert tags["additionalProperties"]["maxLength"] == rules.MAX_TAG_VALUE
    (reserved,) = [
        p["not"]["pattern"] for p in tags["propertyNames"]["allOf"] if p["not"]["pattern"].startswith("^(-|")
    ]

    def anycase(text: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)

    def dots(text: str) -> str:
        return text.replace(".", "\\.")

    prefixes = ["-", anycase("aws:"), anycase("file") + "[bB]?://", anycase("http") + "[sS]?://"]
    prefixes += [dots(p) for p in rules.RESERVED_TAG_PREFIXES]
    keys = "|".join(
        [
            "karpenter\\.sh/(discovery|nodepool|nodeclaim)",
            *(dots(k) for k in rules.RESERVED_TAG_KEYS if not k.startswith("karpenter.sh/")),
        ]
    )
    assert reserved == f"^({'|'.join(prefixes)}|({keys})$)"
    assert {"-", "file://", "fileb://", "http://", "https://"} == set(rules.COMMAND_LINE_PREFIXES)
    assert str(rules.VPC_PREFIXES) == "(16, 21)" and "/16 to /21" in (pristine / "values.yaml").read_text()


# ---- item 12: eks-accelerator.sh environment reads values.yaml through eksgen -------------------------------
ENVIRONMENTS = [
    ("block", "environment: prod eu\n", "prod eu"),
    ("quoted", 'environment: "prod eu" # deploys\n', "prod eu"),
    ("single-quoted", "environment: 'it''s'\n", "it's"),
    ("flow-map", "{clusterName: demo, environment: staging}\n", "staging"),
    ("folded-plain", "environment: prod\n  eu\n", "prod eu"),
    ("multi-line", "environment: |\n  prod\n  eu\n", None),
    ("nested", "environment: {name: prod}\n", None),
    ("missing", "clusterName: demo\n", None),
    ("empty", 'environment: ""\n', None),
    ("null", "environment:\n", None),
    ("indented-decoy", "other:\n  environment: decoy\nenvironment: real\n", "real"),
    ("not-utf8", b"environment: \xff\n", None),
]


@pytest.mark.parametrize(("text", "expected"), [e[1:] for e in ENVIRONMENTS], ids=[e[0] for e in ENVIRONMENTS])
def test_item_12_the_entrypoint_prints_the_environment_yaml_reads_or_fails(pristine, tmp_path, text, expected):
    """The deploy and destroy workflows name their job's GitHub environment with `./eks-accelerator.sh
    environment`. It asks eksgen (`eksgen get environment`, the reader of every command), so it prints what a
    YAML parser reads, or fails (non-zero, a message) for a missing, empty, nested or multi-line value; the
    workflow step assigns the output first, so the failure fails the step instead of naming no environment."""
    import yaml as pyyaml

    repo = tmp_path / "repo"
    shutil.copytree(pristine, repo)
    values = repo / "values.yaml"
    values.write_bytes(text if isinstance(text, bytes) else text.encode())
    env = {**os.environ, "EKS_ACCELERATOR_MODE": "native"}
    result = subprocess.run(
        ["./eks-accelerator.sh", "environment"], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )
    if expected is None:
        assert result.returncode != 0 and result.stdout == "", result
        assert "values.yaml" in result.stderr and "internal error" not in result.stderr, result.stderr
        return
    assert pyyaml.safe_load(text)["environment"] == expected  # what a YAML parser says
    assert (result.returncode, result.stdout) == (0, f"{expected}\n"), result.stderr


def test_item_12_the_workflow_steps_fail_when_the_environment_cannot_be_read(pristine):
    """`echo "name=$(cmd)"` succeeds whatever cmd does; the step assigns first (bash -e stops there)."""
    for name in ("deploy.yml", "destroy.yml"):
        workflow = pyyaml_load(pristine / ".github/workflows" / name)
        (step,) = [s for s in workflow["jobs"]["target"]["steps"] if s.get("id") == "environment"]
        assert step["run"].splitlines()[0] == 'name="$(./eks-accelerator.sh environment)"'
        # eksgen reads it, in the toolchain image the target job built (as every other command runs)
        assert step["env"] == {"EKS_ACCELERATOR_MODE": "docker", "EKS_ACCELERATOR_IMAGE": "eks-toolchain:ci"}


def pyyaml_load(path: Path) -> dict:
    import yaml as pyyaml

    return pyyaml.safe_load(path.read_text(encoding="utf-8"))


# ---- a review of the merged branches (session 3): files a pull request or a commit may hold ----------
DEEP = "x: " + "[" * 10000 + "]" * 10000 + "\n"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def _commit_all(repo: Path, message: str) -> None:
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "--quiet", "--no-verify", "-m", message], cwd=repo, check=True)


@pytest.mark.parametrize(
    ("path", "content", "cause"),
    [
        ("values.yaml", None, "uses a YAML alias"),  # the bomb appended to values.yaml
        ("values.yaml", b"name: \xff\xfe\n", "is not UTF-8"),
        ("values.yaml", DEEP.encode(), "nests deeper than 64 levels"),
        (".eksgen.yaml", b"answers: \xff\n", "is not UTF-8"),
        (".eksgen.yaml", ALIAS_BOMB.encode(), "uses a YAML alias"),
    ],
    ids=["values-alias-bomb", "values-not-utf8", "values-too-deep", "record-not-utf8", "record-alias-bomb"],
)
def test_review_update_reads_the_committed_files_as_every_command_does(repo, path, content, cause):
    """`eksgen update` read values.yaml and .eksgen.yaml at HEAD with plain YAML: an alias bomb kept it at
    full CPU for minutes, bad bytes or deep nesting were internal errors. Now: an Error naming the file."""
    target = repo / path
    target.write_bytes(target.read_bytes() + ALIAS_BOMB.encode() if content is None else content)
    _commit_all(repo, "hostile")
    result = _eksgen("update", "--dry-run", "--repo", repo, timeout=30)
    assert result.returncode == 1, result.stderr
    assert path in result.stderr and cause in result.stderr, result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    ("content", "cause"),
    # libyaml stops "[[[[..." at its own depth limit (1000), before eksgen's (64) is reached
    [(b"\xff\xfe: x\n", "is not UTF-8"), (DEEP.encode(), "exceeded maximum nesting depth")],
    ids=["not-utf8", "too-deep"],
)
def test_review_plan_holds_the_base_commit_to_the_rules_of_the_working_tree(repo, content, cause):
    """`plan --base REF` read REF's rendered/ files unchecked (git show): bad bytes or deep nesting in the
    base were internal errors. They are now read with one `git cat-file --batch` and checked the same way."""
    (repo / "rendered/manifests/bad.yaml").write_bytes(content)
    _commit_all(repo, "bad file in the base")
    (repo / "rendered/manifests/bad.yaml").unlink()
    result = _eksgen("plan", "--repo", repo, "--base", "HEAD")
    assert result.returncode == 1 and "rendered/manifests/bad.yaml" in result.stderr, result.stderr
    assert cause in result.stderr and "internal error" not in result.stderr


def test_review_plan_refuses_a_huge_or_symlinked_file_at_the_base_before_reading_it(repo):
    big = repo / "rendered/manifests/big.yaml"
    big.write_text("x: " + "y" * (5 * 1024 * 1024) + "\n")
    _commit_all(repo, "huge file in the base")
    big.unlink()
    result = _eksgen("plan", "--repo", repo, "--base", "HEAD")
    assert result.returncode == 1 and "is larger than 4194304 bytes" in result.stderr, result.stderr
    (repo / "rendered/manifests/link.yaml").symlink_to("/etc/passwd")
    _commit_all(repo, "a symlink in the base")
    (repo / "rendered/manifests/link.yaml").unlink()
    result = _eksgen("plan", "--repo", repo, "--base", "HEAD")
    assert result.returncode == 1 and "link.yaml: is not a regular file" in result.stderr, result.stderr


def test_review_validate_refuses_a_rendered_file_nested_too_deeply(repo):
    (repo / "rendered/manifests/deep.yaml").write_text(DEEP)
    result = _eksgen("validate", "--skip", "hygiene", repo)
    assert result.returncode == 1 and "internal error" not in result.stderr, result.stderr
    assert "deep.yaml: not valid YAML: while increasing flow level" in result.stdout  # libyaml's depth limit
    (repo / "rendered/manifests/deep.yaml").write_text("x: " + "[" * 65 + "]" * 65 + "\n")
    result = _eksgen("validate", "--skip", "hygiene", repo)
    assert result.returncode == 1 and "deep.yaml: nests deeper than 64 levels" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("schema", "cause"),
    [
        ("[" * 100000 + "]" * 100000, "nests too deeply"),
        ('{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/a"}}}', "refers to itself without end"),
        ('{"$ref":"https://example.invalid/x.json"}', "has a reference that leads nowhere"),
        ('{"type": 12}', "is not a valid JSON schema"),
    ],
    ids=["deep", "self-reference", "remote-reference", "not-a-schema"],
)
def test_review_a_broken_values_schema_is_named_by_validate_and_set(repo, schema, cause):
    """A pull request may change charts/eks-complete/values.schema.json: whatever it holds, `validate` and
    `set` name it and the cause (jsonschema's own errors and Python's recursion limit were internal errors)."""
    (repo / "charts/eks-complete/values.schema.json").write_text(schema)
    checked = _eksgen("validate", "--only", "values", repo)
    assert checked.returncode == 1 and "internal error" not in checked.stderr, checked.stderr
    assert f"charts/eks-complete/values.schema.json: cannot use the schema: {cause}" in checked.stdout
    edited = _eksgen("set", "--repo", repo, "environment=x")
    assert edited.returncode == 1 and f"values.schema.json: {cause}" in edited.stderr, edited.stderr


def test_review_linters_and_helm_read_no_symlink_out_of_the_repository(repo):
    """A symlinked workflow made zizmor quote /etc/passwd into the validate log, and helm follows a symlinked
    chart template into rendered/ (and so into the plan comment). Both are refused, naming the link."""
    (repo / ".github/workflows/p.yml").symlink_to("/etc/passwd")
    result = _eksgen("validate", "--only", "hygiene", repo)
    assert result.returncode == 1 and "root:x:0:0" not in result.stdout + result.stderr
    assert ".github/workflows/p.yml: is a symlink; actionlint lints the repository's own files only" in result.stdout
    (repo / ".github/workflows/p.yml").unlink()
    (repo / "charts/eks-complete/templates/leak.yaml").symlink_to("/etc/hostname")
    for args in (("render", "--repo", repo), ("set", "--repo", repo, "environment=x")):
        result = _eksgen(*args)
        assert result.returncode == 1, result.stderr
        assert "charts/eks-complete/templates/leak.yaml: is a symlink" in result.stderr, result.stderr


def test_review_a_huge_rendered_diff_keeps_the_comment_within_githubs_limit(repo):
    """A 300 MB file made a 300 MB plan; GitHub refuses a comment over 65,536 characters. Diffs share a
    budget: one that does not fit is named and left out, and the plan says how to see it."""
    (repo / "rendered/manifests/big.yaml").write_text("".join(f"k{i}: {'v' * 100}\n" for i in range(3000)))
    _commit_all(repo, "a big file")
    (repo / "rendered/manifests/big.yaml").unlink()
    output = repo.parent / "plan.md"
    result = _eksgen("plan", "--repo", repo, "--base", "HEAD", "--output", output)
    assert result.returncode in (0, 1), result.stderr  # (rendered/ is out of date: a blocker, exit 1)
    text = output.read_text()
    assert len(text) < 65536 and "rendered/manifests/big.yaml" in text
    assert "its diff is left out, so that this comment stays within GitHub's 65,536 characters" in text
