from __future__ import annotations

import socket

import pytest

from ivr.ari.client import AriClient
from ivr.ari.errors import (
    AriAuthError,
    AriBadRequest,
    AriConnectError,
    AriConnectionError,
    AriError,
    AriHTTPError,
    AriNotFound,
    AriNotInStasis,
    AriResponseLost,
    AriServerError,
    AriUnprocessable,
)
from tests.ari.fake_ari import FakeAri


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (400, AriBadRequest),
        (401, AriAuthError),
        (403, AriAuthError),
        (404, AriNotFound),
        (409, AriNotInStasis),
        (422, AriUnprocessable),
        (500, AriServerError),
        (503, AriServerError),
        (412, AriHTTPError),
    ],
)
async def test_status_maps_to_typed_error(
    fake: FakeAri, client: AriClient, status: int, exc_type: type[AriHTTPError]
) -> None:
    fake.reply("POST", "/channels/c1/answer", status, {"message": "Channel not in Stasis application"})
    with pytest.raises(exc_type) as info:
        await client.channels.answer("c1")
    err = info.value
    assert type(err) is exc_type
    assert isinstance(err, AriError)
    assert (err.status, err.method, err.path) == (status, "POST", "/channels/c1/answer")
    assert err.message == "Channel not in Stasis application"
    assert "Channel not in Stasis application" in str(err)


async def test_error_without_json_body_uses_reason(fake: FakeAri, client: AriClient) -> None:
    fake.reply("GET", "/channels/nope", 404)
    with pytest.raises(AriNotFound) as info:
        await client.channels.get("nope")
    assert info.value.message == "Not Found"


async def test_wrong_password_is_auth_error(fake: FakeAri) -> None:
    ari = AriClient(fake.base_url, fake.user, "wrong", "ivr")
    try:
        with pytest.raises(AriAuthError) as info:
            await ari.asterisk.info()
        assert info.value.status == 401
        assert info.value.message == "Authentication required"
    finally:
        await ari.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_refused_connection_was_never_sent_and_is_retry_safe() -> None:
    ari = AriClient(f"http://127.0.0.1:{_free_port()}", "u", "p", "ivr")
    try:
        with pytest.raises(AriConnectError) as info:
            await ari.asterisk.info()
        assert isinstance(info.value, AriConnectionError)
        assert info.value.may_have_run is False
    finally:
        await ari.close()


async def test_request_sent_without_answer_may_have_run() -> None:
    """A server that accepts the request and never answers: the originate may have happened."""
    import asyncio

    import aiohttp

    got_request = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        got_request.set()
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ari = AriClient(f"http://127.0.0.1:{port}", "u", "p", "ivr", timeout=aiohttp.ClientTimeout(total=0.5))
    try:
        with pytest.raises(AriResponseLost) as info:
            await ari.channels.originate("PJSIP/2101", app="ivr")
        assert got_request.is_set()
        assert info.value.may_have_run is True
    finally:
        await ari.close()
        server.close()


async def test_json_in_and_out(fake: FakeAri, client: AriClient) -> None:
    fake.reply("GET", "/asterisk/info", 200, {"system": {"version": "22.10.1"}})
    assert await client.asterisk.info() == {"system": {"version": "22.10.1"}}
    assert await client.request("POST", "/channels/c1/ring") is None
    rec = fake.requests[-1]
    assert (rec.method, rec.path) == ("POST", "/channels/c1/ring")


async def test_none_params_dropped_and_bools_lowercase(fake: FakeAri, client: AriClient) -> None:
    await client.request("POST", "/x", params={"a": None, "b": True, "c": False, "d": 5})
    assert fake.requests[-1].query == [("b", "true"), ("c", "false"), ("d", "5")]


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:8088",
        "http://127.0.0.1:8088/",
        "http://127.0.0.1:8088/ari",
        "http://127.0.0.1:8088/ari/",
    ],
)
def test_base_url_with_or_without_ari_prefix(base: str) -> None:
    ari = AriClient(base, "u", "p", "my app")
    assert str(ari.url("/channels")) == "http://127.0.0.1:8088/ari/channels"
    assert str(ari.events_url) == "ws://127.0.0.1:8088/ari/events?app=my+app&subscribeAll=false"


def test_bad_base_url_is_clear() -> None:
    with pytest.raises(ValueError, match="ARI base URL"):
        AriClient("127.0.0.1:8088", "u", "p", "ivr")


async def test_ids_are_quoted_into_paths(fake: FakeAri, client: AriClient) -> None:
    await client.channels.hangup("a/b c")
    assert fake.requests[-1].path == "/channels/a%2Fb%20c"


async def test_given_session_is_not_closed(fake: FakeAri) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        ari = AriClient(fake.base_url, fake.user, fake.password, "ivr", session=session)
        await ari.channels.ring("c1")
        await ari.close()
        assert not session.closed
