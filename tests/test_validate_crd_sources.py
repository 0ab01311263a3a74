"""Where Karpenter's CRDs come from: a directory, or the upstream repository's listing."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest

from generator.answers import Answers
from generator.errors import EksgenError
from generator.scaffold import generate
from generator.validate import Context, run


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("src", {}), tmp_path_factory.mktemp("src"))


@pytest.fixture
def mirror(schemas, tmp_path):
    """A local stand-in for the GitHub contents API at the release tag, on 127.0.0.1."""
    crds = schemas / "karpenter" / "v1.14.1" / "crds"
    served = tmp_path / "served"
    shutil.copytree(crds, served)
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def do_GET(self):  # noqa: N802 - http.server's name
            requests.append(self.path)
            if self.path.startswith("/contents"):
                port = self.server.server_address[1]
                listing = [
                    {"name": p.name, "download_url": f"http://127.0.0.1:{port}/{p.name}"}
                    for p in sorted(served.glob("*.yaml"))
                ]
                body = json.dumps(listing).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/contents?ref=v{{version}}", requests
    server.shutdown()


def test_crds_from_a_directory(repo, schemas, tmp_path):
    crds = tmp_path / "my-crds"
    shutil.copytree(schemas / "karpenter" / "v1.14.1" / "crds", crds)
    ctx = Context(repo, schemas=schemas, crds=str(crds))
    assert ctx.karpenter_crd_dir() == crds
    assert all(r.passed for r in run(ctx, only=["kubeconform", "apiserver"]))


def test_crds_from_upstream_are_downloaded_once_and_cached(repo, schemas, mirror, monkeypatch):
    url, requests = mirror
    monkeypatch.setenv("EKSGEN_CRDS_UPSTREAM_URL", url)
    first = Context(repo, schemas=schemas, crds="upstream")
    assert all(r.passed for r in run(first, only=["kubeconform", "apiserver"]))
    assert requests[0] == "/contents?ref=v1.14.1" and len(requests) == 1 + 5
    second = Context(repo, schemas=schemas, crds="upstream")
    assert second.karpenter_crd_dir() == first.karpenter_crd_dir()
    assert len(requests) == 6, "a second run reads the cache"


def test_upstream_unreachable_is_an_error(repo, schemas, monkeypatch, tmp_path):
    monkeypatch.setenv("EKSGEN_CRDS_UPSTREAM_URL", "http://127.0.0.1:9/contents?ref=v{version}")
    monkeypatch.setenv("EKSGEN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(EksgenError, match="cannot download Karpenter v1.14.1 CRDs"):
        Context(repo, schemas=schemas, crds="upstream").karpenter_crd_dir()
    (result,) = run(Context(repo, schemas=schemas, crds="upstream"), only=["apiserver"])
    assert not result.passed


def test_missing_crds_are_an_error(repo, schemas, tmp_path):
    (result,) = run(Context(repo, schemas=schemas, crds=str(tmp_path)), only=["kubeconform"])
    assert not result.passed
    assert "CRDs not found" in result.findings[0].message
