"""Run a script in a fork server (_zygote.py): `python -S _client.py VARIABLE SCRIPT ARGS...`, where the
environment variable VARIABLE names the server's socket.

It passes its stdin, stdout and stderr, the arguments, its working directory and environment, and
exits with the script's exit code. Without VARIABLE set it runs the script itself, `python SCRIPT ARGS`.
"""

import json
import os
import socket
import struct
import sys


def main() -> None:
    variable, script, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    path = os.environ.get(variable)
    if not path:
        os.execv(sys.executable, [sys.executable, script, *argv])
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            continue
        fds.append(fd)
    request = {"script": script, "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "fds": fds}
    body = json.dumps(request).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(path)
        socket.send_fds(connection, [struct.pack("!Q", len(body))], fds)
        connection.sendall(body)
        answer = b""
        while len(answer) < 4:
            chunk = connection.recv(4 - len(answer))
            if not chunk:
                sys.exit(f"{os.path.basename(script)}: the fork server at {path} ended the call without an exit code")
            answer += chunk
    sys.exit(struct.unpack("!i", answer)[0])


if __name__ == "__main__":
    main()
