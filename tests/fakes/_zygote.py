"""Fork servers for the fakes: one has imported boto3 and parsed the AWS service models the fakes of
eksctl, helm and kubectl use, the other has imported the aws CLI and parsed its models (the aws fake runs
there, and the real CLI in the same child); each forks a child per call.

Starting a Python interpreter that imports boto3 or the aws CLI and parses their service models costs
about half a second of CPU, and a deploy runs dozens of fakes and aws commands; a forked child starts
with all of it done. The child runs a script as `python SCRIPT ARGS` would: in the caller's working
directory and environment, on the caller's stdin, stdout and stderr (passed over the socket), and its
exit code is the caller's (client.c is the caller). Nothing of a test's state lives here: the fakes'
own modules (which read the environment when imported) are imported in the child, and the loaded
models are handed out to one session per child (`_warm_loader`), so no call sees what another did to them.

There are two servers because the aws CLI brings its own botocore, which it makes importable as
`botocore` once `awscli` is imported: one process cannot hold both, and the fakes' boto3 uses the
botocore distribution while the aws CLI uses its own, as in separate processes.

Usage: python _zygote.py SOCKET fakes|aws (prints "ready" on stdout once it listens).
"""

from __future__ import annotations

import gc
import os
import runpy
import signal
import socket
import struct
import sys
import traceback

# What the fakes and the deploys call: the aws CLI (eks, sts, cloudformation, iam, logs) and boto3 in the
# fakes (eks, cloudformation, ec2, iam, logs, sts); s3 and sqs for cloudformation deploy and the stack's queue.
SERVICES = ("cloudformation", "ec2", "eks", "iam", "logs", "s3", "sqs", "sts")


def _paths(search_path_string: str | None) -> list[str]:
    return list(dict.fromkeys((search_path_string or "").split(os.pathsep)))


def _warm_loader(session_module, data_path: str | None, names: tuple[str, ...]) -> None:  # noqa: ANN001 - botocore.session
    """Load what a call loads into a botocore Loader now, and make it the first loader each child creates.

    botocore caches what a Loader reads (service lists, models, endpoints) on the Loader, and every
    session makes a new one: without this, each call lists some 400 service folders and parses the
    models again. A child gets the loaded Loader for its first session, as if that session had loaded
    everything itself; any later session, or another data path, gets a new Loader as usual."""
    loaders = sys.modules[session_module.create_loader.__module__]
    warm = loaders.create_loader(data_path)
    for type_name in ("service-2", "paginators-1", "waiters-2", "endpoint-rule-set-1"):
        warm.list_available_services(type_name)
        for service in SERVICES:
            try:
                warm.load_service_model(service, type_name)
            except loaders.DataNotFoundError:
                pass  # not every service has waiters
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry", *names):
        warm.load_data(name)
    original = session_module.create_loader
    unused = [warm]

    def create_loader(search_path_string=None):  # noqa: ANN001, ANN202 - botocore's signature
        if unused and _paths(search_path_string) == _paths(data_path):  # a folder named twice is searched once
            return unused.pop()
        return original(search_path_string)

    session_module.create_loader = create_loader


def _warm_fakes() -> None:
    import boto3  # noqa: F401 - before anything imports awscli, whose import would alias its own botocore
    import botocore.session
    import yaml  # noqa: F401 - the fakes read YAML

    _warm_loader(botocore.session, os.environ.get("AWS_DATA_PATH"), ())


def _warm_aws() -> None:
    import awscli.clidriver
    import awscli.handlers  # noqa: F401 - the CLI's plugins and customizations
    import botocore.session  # the aws CLI's own botocore, under that name once awscli is imported

    assert botocore.session.__file__.startswith(os.path.dirname(awscli.clidriver.__file__)), botocore.session.__file__
    _warm_loader(botocore.session, os.environ["AWS_DATA_PATH"], ("cli",))


def _awscli_environment() -> None:
    """What importing awscli does to the environment (awscli/__init__.py), done again for this caller's."""
    import awscli

    paths = [os.path.expanduser(os.path.expandvars(p)) for p in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep)]
    paths = paths if "AWS_DATA_PATH" in os.environ else []
    paths.append(os.path.join(os.path.dirname(os.path.abspath(awscli.__file__)), "data"))
    awscli._awscli_data_path[:] = paths
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(paths)


def _run(flavor: str, request: dict, fds: list[int]) -> int:
    for fd, target in zip(fds, request["fds"], strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if flavor == "aws":
        _awscli_environment()
    script = request["script"]
    sys.argv = [script, *request["argv"]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            code = done.code or 0
        else:
            print(done.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - reported as the interpreter reports an uncaught exception
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    return code


def _request(body: bytes) -> dict:
    """The request client.c sends: NUL-terminated fields (see there)."""
    fields = iter(os.fsdecode(field) for field in body.split(b"\0"))
    script, cwd = next(fields), next(fields)
    argv = [next(fields) for _ in range(int(next(fields)))]
    env = dict(next(fields).partition("=")[::2] for _ in range(int(next(fields))))
    fds = [int(next(fields)) for _ in range(int(next(fields)))]
    return {"script": script, "argv": argv, "cwd": cwd, "env": env, "fds": fds}


def _serve(flavor: str, connection: socket.socket) -> None:
    """In the child: run the request on `connection`, answer its exit code and end."""
    code = 1
    try:
        head, fds, _, _ = socket.recv_fds(connection, 8, 3)
        while len(head) < 8:
            head += connection.recv(8 - len(head))
        (size,) = struct.unpack("!Q", head)
        body = b""
        while len(body) < size:
            chunk = connection.recv(size - len(body))
            if not chunk:
                raise EOFError("the client went away")
            body += chunk
        code = _run(flavor, _request(body), fds)
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
    finally:
        try:
            connection.sendall(struct.pack("!i", code))
        except OSError:
            pass
        os._exit(code & 0xFF)


_children: set[int] = set()


def _reap(signum: int = 0, frame: object = None) -> None:
    """Wait for the children that ended, so that their CPU time counts as this process's children's."""
    while _children:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            _children.clear()
            return
        if pid == 0:
            return
        _children.discard(pid)


def main(path: str, flavor: str) -> None:
    parent = os.getppid()
    {"fakes": _warm_fakes, "aws": _warm_aws}[flavor]()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    server.settimeout(2)  # to notice that the test session is gone, should it end without stopping us
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    gc.collect()
    gc.freeze()  # a child's collections leave the inherited objects (and their pages) alone
    print("ready", flush=True)
    try:
        while os.getppid() == parent:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.settimeout(None)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                server.close()
                _serve(flavor, connection)
            _children.add(pid)
            connection.close()
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in list(_children):  # calls still running when the session ends are cut short
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in list(_children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
