"""Serve an app with uvicorn for the benchmark: `python -m benchmarks.serve APP PORT WORKERS`.

With more than one worker, uvicorn's supervisor binds the listening socket itself and leaves
its protocol number at 0. Accepted connections inherit it, and asyncio turns Nagle's
algorithm off only for sockets that report IPPROTO_TCP (uvicorn issue #3149), so every
keep-alive response then waits about 40 ms for the client's delayed ACK: the benchmark
would measure that instead of the app. Re-opening the bound descriptor makes the socket
module read the real protocol back from the kernel.
"""

import contextlib
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


def main() -> None:
    app, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, workers=workers, access_log=False, log_level="warning"
    )
    if workers == 1:
        uvicorn.Server(config).run()  # binds through getaddrinfo: TCP_NODELAY is set
        return
    bound = config.bind_socket()
    listener = socket.socket(fileno=bound.detach())  # family, type and proto from the kernel
    assert listener.proto == socket.IPPROTO_TCP
    Multiprocess(config, sockets=[listener]).run()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # how benchmarks.http stops it
        main()
