"""One SIP OPTIONS over UDP: does a SIP server at host:port answer 200?"""

from __future__ import annotations

import secrets
import socket


def options_request(host: str, port: int, *, local_host: str, local_port: int, call_id: str) -> bytes:
    """An out-of-dialog OPTIONS to ``sip:host:port`` (no user: addressed to the server itself)."""
    branch = "z9hG4bK" + secrets.token_hex(8)
    tag = secrets.token_hex(4)
    lines = [
        f"OPTIONS sip:{host}:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP {local_host}:{local_port};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:ping@{local_host}:{local_port}>;tag={tag}",
        f"To: <sip:{host}:{port}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        "Accept: application/sdp",
        "Content-Length: 0",
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


def status_code(response: bytes, call_id: str) -> int | None:
    """The status of a SIP response to the request with ``call_id``; None for anything else."""
    text = response.decode("utf-8", errors="replace")
    head, _, _ = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit():
        return None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ("call-id", "i") and value.strip() == call_id:
            return int(parts[1])
    return None


def answers_options(host: str, port: int, *, timeout_s: float = 0.5) -> bool:
    """True when ``host:port`` answers an OPTIONS with 200 within ``timeout_s`` (blocking)."""
    call_id = secrets.token_hex(12) + "@ivr-ping"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect((host, port))  # picks the local address the server can answer to
            local_host, local_port = sock.getsockname()[:2]
            sock.send(
                options_request(host, port, local_host=local_host, local_port=local_port, call_id=call_id)
            )
            while True:
                data = sock.recv(65535)
                code = status_code(data, call_id)
                if code is not None and code >= 200:
                    return code == 200
        except OSError:  # timeout, or ICMP port unreachable surfacing as ECONNREFUSED
            return False
