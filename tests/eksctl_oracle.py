"""The real eksctl as a test oracle: does it accept a ClusterConfig, or a command line?

`eksctl create cluster -f FILE --dry-run` (eksctl@v0.230.0:pkg/ctl/create/cluster.go) loads the
file, completes it with eksctl's defaults, validates it, prints the completed config as YAML and
exits 0, or prints `Error: ...` and exits 1. On the way it calls AWS, and the oracle keeps every
call on 127.0.0.1:

- STS GetCallerIdentity (pkg/eks/api.go, checkAuth) -> the session's moto server;
- EKS DescribeClusterVersions, `GET /cluster-versions` (pkg/eks/versions_manager.go) -> a stand-in
  served here, since moto does not know that operation. It answers the Kubernetes minors of
  `generator.versions.KUBERNETES` with their support status on the day, and a 404 JSON error for
  anything else (it forwards nothing);
- EC2 DescribeAvailabilityZones (pkg/az/az.go, when the config has no `availabilityZones`) and
  DescribeInstanceTypeOfferings (pkg/eks/api.go, when a node group names instance types) -> moto.

Every other AWS endpoint eksctl or the SDK could pick (AWS_ENDPOINT_URL is the SDK's fallback for
all services) also points at moto, proxies point at a closed loopback port, instance metadata is
off, credentials are fake, and HOME and the AWS config files are fresh temporary paths.

`accepts_flags` runs other commands with every endpoint at the stand-in instead (see there).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EKSCTL = ROOT / ".tools" / "bin" / "eksctl"
TIMEOUT = 120  # seconds for one eksctl run
REGION = "us-west-2"

# generator.versions' support phases -> EKS's VersionStatus enum (aws-sdk-go-v2/service/eks
# types/enums.go). eksctl keeps every version whose `status` is not "UNSUPPORTED"
# (versions_manager.go), so `status` carries the same upper-case value as `versionStatus`.
_STATUS = {"standard": "STANDARD_SUPPORT", "extended": "EXTENDED_SUPPORT", "ended": "UNSUPPORTED"}

# Command-line errors from cobra/pflag and from eksctl's verb commands (cmd/eksctl/main.go). They
# only name the kind of rejection in `accepts_flags`' output; the verdict does not depend on them.
_PARSE_ERRORS = re.compile(
    r"unknown (shorthand )?flag|unknown command|unknown resource type|please provide a valid resource|"
    r"flag needs an argument|invalid argument|bad flag syntax|required flag\(s\)|accepts \d+ arg|"
    r"requires at least \d+ arg|if any flags in the group"
)


def _epoch(day: date) -> int:
    """A date as the JSON number of seconds the SDK parses for timestamps (smithytime.ParseEpochSeconds)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def cluster_versions(today: date | None = None) -> dict:
    """The DescribeClusterVersions response for `generator.versions.KUBERNETES` on a day.

    Keys and types follow aws-sdk-go-v2/service/eks@v1.91.0 (the version eksctl v0.230.0 builds
    with), deserializers.go awsRestjson1_deserializeDocumentClusterVersionInformation: dates are
    epoch seconds, `defaultVersion` a bool. `kubernetesPatchVersion` is the pinned kubectl patch
    release of the minor, and `defaultPlatformVersion` a plausible "eks.1": eksctl reads neither.
    """
    from generator import versions  # the current matrix, read on every request

    day = today or date.today()
    default = versions.default_kubernetes(day)
    entries = []
    for minor in sorted(versions.KUBERNETES, key=versions.minor_key):
        release = versions.KUBERNETES[minor]
        status = _STATUS[release.support_on(day)]
        entries.append(
            {
                "clusterVersion": minor,
                "clusterType": "eks",
                "defaultPlatformVersion": "eks.1",
                "defaultVersion": minor == default,
                "releaseDate": _epoch(release.released),
                "endOfStandardSupportDate": _epoch(release.end_of_standard_support),
                "endOfExtendedSupportDate": _epoch(release.end_of_extended_support),
                "status": status,
                "versionStatus": status,
                "kubernetesPatchVersion": release.kubectl,
            }
        )
    return {"clusterVersions": entries}


def availability_zones(region: str) -> bytes:
    """EC2 DescribeAvailabilityZones for any region: three zones, as EC2's query API answers.

    moto knows the zones of some regions only (none of ap-southeast-7, us-gov-west-1 or
    cn-north-1), and eksctl asks for them whenever the ClusterConfig names none. Zone ids follow
    AWS's form (usw2-az1); none is one eksctl avoids (pkg/az/az.go zoneIDsToAvoid).
    """
    short = "".join(part[0] if not part[-1].isdigit() else part for part in region.split("-"))
    items = "".join(
        f"<item><zoneName>{region}{letter}</zoneName><zoneState>available</zoneState>"
        f"<regionName>{region}</regionName><zoneId>{short}-az{n}</zoneId><zoneType>availability-zone</zoneType>"
        f"<optInStatus>opt-in-not-required</optInStatus><groupName>{region}</groupName>"
        f"<networkBorderGroup>{region}</networkBorderGroup><messageSet/></item>"
        for n, letter in enumerate("abc", 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><DescribeAvailabilityZonesResponse '
        f'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>eksgen-oracle</requestId>'
        f"<availabilityZoneInfo>{items}</availabilityZoneInfo></DescribeAvailabilityZonesResponse>"
    ).encode()


def instance_type_offerings(region: str, payload: bytes) -> bytes:
    """EC2 DescribeInstanceTypeOfferings: every instance type asked for, offered in each zone above.

    eksctl keeps only the zones that offer a node group's instance types; moto offers nothing in
    the regions whose zones it does not know. So the offline oracle cannot tell an instance type
    that a region lacks: that judgement needs AWS itself.
    """
    form = urllib.parse.parse_qs(payload.decode())
    types = sorted(
        {v for k, values in form.items() if re.fullmatch(r"Filter\.\d+\.Value\.\d+", k) for v in values if "." in v}
    )
    items = "".join(
        f"<item><instanceType>{kind}</instanceType><locationType>availability-zone</locationType>"
        f"<location>{region}{letter}</location></item>"
        for kind in types
        for letter in "abc"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><DescribeInstanceTypeOfferingsResponse '
        f'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>eksgen-oracle</requestId>'
        f"<instanceTypeOfferingSet>{items}</instanceTypeOfferingSet></DescribeInstanceTypeOfferingsResponse>"
    ).encode()


class EksStandIn:
    """A stand-in EKS endpoint on 127.0.0.1 that answers only `GET /cluster-versions`.

    It also stands in for EC2 in a dry run (a User-Agent marked "dry-run"): it answers
    DescribeAvailabilityZones and DescribeInstanceTypeOfferings itself, for every region alike,
    and forwards any other EC2 request to moto (`forward_ec2`).

    Any other request gets HTTP 404 with `X-Amzn-ErrorType: ResourceNotFoundException`, which the
    SDK turns into an EKS ResourceNotFoundException (for `GET /clusters/NAME` that is what EKS says
    for a cluster that does not exist) and any other client into an error; 4xx are not retried.
    Each request's User-Agent is recorded, so a caller can tell whether a given eksctl run (marked
    with AWS_SDK_UA_APP_ID) got as far as calling AWS.
    """

    def __init__(self, today: date | None = None) -> None:
        self.today = today
        self.forward_ec2: str | None = None  # moto, for the EC2 calls of a dry run
        self.requests: list[tuple[str, str, str, str]] = []  # (service, method, path, user agent)
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                # SigV4: "Credential=KEY/DAY/REGION/SERVICE/aws4_request"
                scope = re.search(r"Credential=[^/]*/[^/]*/([^/]*)/([^/]*)/", self.headers.get("Authorization", ""))
                region, service = scope.groups() if scope else ("?", "?")
                agent = self.headers.get("User-Agent", "")
                with stand_in._lock:
                    stand_in.requests.append((service, self.command, path, agent))
                if service == "ec2" and "dry-run" in agent and stand_in.forward_ec2:
                    self._ec2(region, payload)
                    return
                if self.command == "GET" and path == "/cluster-versions":
                    status, body, error = 200, cluster_versions(stand_in.today), None
                else:
                    error = "ResourceNotFoundException"
                    message = f"the eksctl oracle serves only GET /cluster-versions, not {self.command} {path}"
                    status, body = 404, {"message": message}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error:
                    self.send_header("X-Amzn-ErrorType", error)
                self.end_headers()
                self.wfile.write(data)

            def _ec2(self, region: str, payload: bytes) -> None:
                if b"Action=DescribeAvailabilityZones" in payload:
                    status, data, kind = 200, availability_zones(region), "text/xml;charset=UTF-8"
                elif b"Action=DescribeInstanceTypeOfferings" in payload:
                    status, data, kind = 200, instance_type_offerings(region, payload), "text/xml;charset=UTF-8"
                else:  # moto answers the rest (DescribeInstanceTypeOfferings, ...)
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    request = urllib.request.Request(
                        f"{stand_in.forward_ec2}{self.path}", data=payload, headers=headers, method=self.command
                    )
                    try:
                        with urllib.request.urlopen(request, timeout=30) as response:
                            status, data = response.status, response.read()
                            kind = response.headers.get("Content-Type", "text/xml")
                    except urllib.error.HTTPError as error:
                        status, data, kind = error.code, error.read(), error.headers.get("Content-Type", "text/xml")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
                pass  # no access log line per request

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="eks-stand-in", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EksStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def seen(self, marker: str) -> list[str]:
        """ "SERVICE METHOD PATH" of the requests whose User-Agent carries `marker`."""
        with self._lock:
            return [f"{service} {method} {path}" for service, method, path, agent in self.requests if marker in agent]


@dataclass(frozen=True)
class Result:
    """What eksctl said: `ok` is its verdict, `output` stdout then stderr, `completed` the printed config."""

    ok: bool
    output: str
    completed: dict | None = None


class EksctlOracle:
    """Runs the pinned eksctl against moto (STS, EC2) and the EKS stand-in, never past 127.0.0.1."""

    def __init__(self, moto_endpoint: str, eks: EksStandIn, workdir: Path, binary: Path = EKSCTL) -> None:
        self.moto_endpoint = moto_endpoint
        self.eks = eks
        self.workdir = workdir
        self.binary = binary
        self._runs = itertools.count(1)
        home = workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        self._base_env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(workdir),
            "KUBECONFIG": str(workdir / "no-kubeconfig"),
            "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Go never proxies loopback addresses; anything else would hit a closed port
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def _endpoints(self, aws: str) -> dict[str, str]:
        """Every AWS endpoint at `aws`, except EKS at the stand-in.

        eksctl's own variables come first in pkg/eks/services_v2.go getBaseEndpoint, the SDK's
        AWS_ENDPOINT_URL_<SERVICE> next, and AWS_ENDPOINT_URL is the SDK's fallback for the rest.
        """
        env = {"AWS_ENDPOINT_URL": aws}
        for own, sdk in (
            ("STS", "STS"),
            ("EC2", "EC2"),
            ("CLOUDFORMATION", "CLOUDFORMATION"),
            ("IAM", "IAM"),
            ("ELB", "ELASTIC_LOAD_BALANCING"),
            ("ELBV2", "ELASTIC_LOAD_BALANCING_V2"),
            ("CLOUDTRAIL", "CLOUDTRAIL"),
            ("EKS", "EKS"),
        ):
            url = self.eks.url if own == "EKS" else aws
            env[f"AWS_{own}_ENDPOINT"] = url
            env[f"AWS_ENDPOINT_URL_{sdk}"] = url
        return env

    def _run(self, args: list[str], aws: str, kind: str = "flags") -> tuple[subprocess.CompletedProcess[str], str]:
        """Run eksctl with AWS at `aws`; returns the process and the User-Agent marker of this run."""
        marker = f"eksgen-oracle-{kind}-{next(self._runs)}"
        env = {**self._base_env, **self._endpoints(aws), "AWS_SDK_UA_APP_ID": marker}
        if kind == "dry-run":  # EC2 through the stand-in, for the zones moto does not know
            env["AWS_EC2_ENDPOINT"] = env["AWS_ENDPOINT_URL_EC2"] = self.eks.url
        try:
            process = subprocess.run(
                [str(self.binary), *args],
                cwd=self.workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as error:
            said = "".join(
                part.decode(errors="replace") if isinstance(part, bytes) else part or ""
                for part in (error.stdout, error.stderr)
            )  # bytes here, even with text=True
            raise AssertionError(f"eksctl {' '.join(args)} ran over {TIMEOUT} s:\n{said}") from error
        return process, marker

    def dry_run(self, config_path: Path) -> Result:
        """`eksctl create cluster -f PATH --dry-run`: ok and the completed config, or the error."""
        process, _ = self._run(
            ["create", "cluster", "-f", str(config_path), "--dry-run"], self.moto_endpoint, kind="dry-run"
        )
        output = process.stdout + process.stderr
        if process.returncode != 0:
            return Result(False, output)
        completed = yaml.safe_load(process.stdout)
        if not isinstance(completed, dict) or completed.get("kind") != "ClusterConfig":
            raise AssertionError(f"eksctl --dry-run exited 0 without printing a ClusterConfig:\n{output}")
        return Result(True, output, completed)

    def accepts_flags(self, args: list[str]) -> tuple[bool, str]:
        """Whether eksctl's command line checks accept `eksctl ARGS` (for commands other than a dry run).

        The command really runs, with every AWS endpoint (STS, EC2, CloudFormation, ... and EKS)
        at the stand-in, which answers `GET /cluster-versions` and a 404 to anything else. So
        nothing is created anywhere, the command fails fast at its first other AWS call, and the
        stand-in sees that call, marked with this run's AWS_SDK_UA_APP_ID. The verdict:

        - exit 0: accepted (e.g. `version`).
        - the stand-in saw a request of this run: accepted. eksctl parsed the flags and passed its
          own checks of the command line before it called AWS; the failure came after, e.g.
          "unable to describe cluster control plane: ... ResourceNotFoundException" or, for STS,
          "checking AWS STS access". Checks eksctl only makes after reading the cluster (is
          --version the next minor?) are not judged.
        - otherwise: rejected. eksctl stopped before any AWS call: cobra/pflag ("unknown flag:
          --nmae", "unknown command", "flag needs an argument", "invalid argument", "required
          flag(s)", "accepts N arg(s)"), an unknown resource of a verb ('unknown resource type
          "clustr"'), or eksctl's own checks ("--name must be set", "cannot use --approve unless a
          config file is specified", a -f file that cannot be read).

        `--help` is no shortcut: cobra rejects unknown flags with it, but skips required flags and
        every check of eksctl's own. The returned output starts with the verdict and its reason,
        e.g. "[rejected: parse error]"; the words after it are eksctl's stdout and stderr.
        """
        process, marker = self._run(list(args), self.eks.url)
        output = process.stdout + process.stderr
        if process.returncode == 0:
            return True, f"[accepted: exit 0]\n{output}"
        calls = self.eks.seen(marker)
        if calls:
            return True, f"[accepted: failed after parsing, at its first AWS call: {', '.join(calls)}]\n{output}"
        kind = "parse error" if _PARSE_ERRORS.search(output) else "eksctl check before any AWS call"
        return False, f"[rejected: {kind}]\n{output}"


@pytest.fixture(scope="session")
def eksctl_oracle(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksctlOracle]:
    """The real eksctl (the pinned .tools/bin/eksctl), offline; fails when `make setup` has not built it."""
    from generator.versions import EKSCTL_VERSION

    if not EKSCTL.is_file():
        pytest.fail(f"{EKSCTL} is missing: run `make setup` to build the pinned tools", pytrace=False)
    version = subprocess.run(
        [str(EKSCTL), "version"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path_factory.mktemp("eksctl-home"))},
    )
    if version.stdout.strip() != EKSCTL_VERSION:
        pytest.fail(
            f"{EKSCTL} is eksctl {version.stdout.strip() or version.stderr.strip()!r}, the pin is "
            f"{EKSCTL_VERSION}: run `make setup`",
            pytrace=False,
        )
    eks = EksStandIn().start()
    eks.forward_ec2 = moto_endpoint
    try:
        yield EksctlOracle(moto_endpoint, eks, tmp_path_factory.mktemp("eksctl-oracle"))
    finally:
        eks.stop()
