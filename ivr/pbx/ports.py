"""Free local ports for extra Asterisk instances (tests beside ``make up``)."""

from __future__ import annotations

import random
import socket


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when ``port`` can be bound on ``host`` for both TCP and UDP right now."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_udp_tcp_port(host: str = "127.0.0.1", *, exclude: set[int] | None = None) -> int:
    """A port free for both TCP and UDP on ``host`` (so SIP and HTTP may use it)."""
    skip = exclude or set()
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in skip and port_is_free(port, host):
            return port
    raise RuntimeError(f"no port free for both TCP and UDP on {host}")


def free_udp_range(
    size: int = 200, host: str = "127.0.0.1", low: int = 20000, high: int = 60000
) -> tuple[int, int]:
    """An even-started range of ``size`` UDP ports (RTP) that are all free now."""
    for _ in range(100):
        start = random.randrange(low, high - size) & ~1
        if all(_udp_free(port, host) for port in range(start, start + size, 17)):
            return start, start + size - 1
    raise RuntimeError(f"no free UDP range of {size} ports on {host}")


def _udp_free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
