"""The OPTIONS probe: the request it sends and how it reads the answer."""

from __future__ import annotations

import socket
import threading

from ivr.cluster.sip_ping import answers_options, options_request, status_code


def test_the_request_is_an_options_to_the_server_itself_with_our_call_id() -> None:
    text = options_request("127.0.0.1", 5090, local_host="127.0.0.1", local_port=40000, call_id="c1").decode()
    assert text.startswith("OPTIONS sip:127.0.0.1:5090 SIP/2.0\r\n")
    assert "\r\nCall-ID: c1\r\n" in text
    assert "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK" in text
    assert text.endswith("\r\n\r\n")


def test_only_a_response_to_our_call_counts() -> None:
    assert status_code(b"SIP/2.0 200 OK\r\nCall-ID: c1\r\n\r\n", "c1") == 200
    assert status_code(b"SIP/2.0 404 Not Found\r\ni: c1\r\n\r\n", "c1") == 404  # compact header form
    assert status_code(b"SIP/2.0 200 OK\r\nCall-ID: other\r\n\r\n", "c1") is None
    assert status_code(b"OPTIONS sip:x SIP/2.0\r\nCall-ID: c1\r\n\r\n", "c1") is None


def _answering(*replies: bytes) -> tuple[socket.socket, threading.Thread]:
    """A UDP server that answers one request with ``replies`` (``CALLID`` becomes the request's header)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)

    def serve() -> None:
        data, peer = sock.recvfrom(65535)
        call_id = next(line for line in data.decode().split("\r\n") if line.startswith("Call-ID:"))
        for reply in replies:
            sock.sendto(reply.replace(b"CALLID", call_id.encode()), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


def _probe(*replies: bytes) -> bool:
    sock, thread = _answering(*replies)
    with sock:
        answered = answers_options("127.0.0.1", sock.getsockname()[1], timeout_s=1)
        thread.join(2)
    return answered


def test_a_200_after_a_provisional_answer_counts_as_answering() -> None:
    assert _probe(b"SIP/2.0 100 Trying\r\nCALLID\r\n\r\n", b"SIP/2.0 200 OK\r\nCALLID\r\n\r\n")


def test_an_error_answer_or_silence_does_not() -> None:
    assert not _probe(b"SIP/2.0 503 Service Unavailable\r\nCALLID\r\n\r\n")
    assert not _probe()
