"""Each resource method sends Asterisk 22's real method, path and parameter names."""

from __future__ import annotations

import pytest

from ivr.ari.client import AriClient
from ivr.ari.models import Channel, LiveRecording, Playback
from tests.ari import samples
from tests.ari.fake_ari import FakeAri


async def test_play_joins_several_media_in_one_param(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/channels/c1/play", 201, samples.PLAYBACK)
    pb = await client.channels.play("c1", ["sound:hello-world", "digits:4271"], playback_id="pb-1", lang="ja")
    assert isinstance(pb, Playback)
    assert pb.id == "pb-1"
    assert pb.target_uri == "channel:1732410123.42"
    rec = fake.requests[-1]
    # Asterisk keeps only the last of repeated query params; lists are one comma-separated value.
    assert rec.param("media") == ["sound:hello-world,digits:4271"]
    assert rec.param("playbackId") == ["pb-1"]
    assert rec.param("lang") == ["ja"]


async def test_play_rejects_media_with_comma(client: AriClient) -> None:
    with pytest.raises(ValueError, match="media"):
        await client.channels.play("c1", ["sound:a,b"])
    with pytest.raises(ValueError, match="at least one"):
        await client.channels.play("c1", [])


async def test_originate_params_and_variables_body(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/channels", 200, samples.channel(id="agent-leg-1", state="Down"))
    ch = await client.channels.originate(
        "PJSIP/agent-101",
        app="ivr",
        app_args="offer,call-7",
        channel_id="agent-leg-1",
        caller_id='"Shop" <0120444444>',
        timeout=15,
        variables={"CALLERID(name)": "Shop", "IVR_CALL": "call-7"},
    )
    assert isinstance(ch, Channel)
    assert ch.id == "agent-leg-1"
    rec = fake.requests[-1]
    assert dict(rec.query) == {
        "endpoint": "PJSIP/agent-101",
        "app": "ivr",
        "appArgs": "offer,call-7",
        "channelId": "agent-leg-1",
        "callerId": '"Shop" <0120444444>',
        "timeout": "15",
    }
    assert rec.body == {"variables": {"CALLERID(name)": "Shop", "IVR_CALL": "call-7"}}


async def test_originate_to_dialplan_without_variables(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/channels", 200, samples.channel())
    await client.channels.originate("Local/s@test", context="test", extension="s", priority=1)
    rec = fake.requests[-1]
    assert dict(rec.query) == {
        "endpoint": "Local/s@test",
        "timeout": "30",
        "context": "test",
        "extension": "s",
        "priority": "1",
    }
    assert rec.body is None


async def test_snoop(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/channels/c1/snoop", 200, samples.channel(id="snoop-1"))
    ch = await client.channels.snoop("c1", app="ivr", snoop_id="snoop-1", app_args="asr")
    assert ch.id == "snoop-1"
    assert dict(fake.requests[-1].query) == {
        "app": "ivr",
        "spy": "in",
        "whisper": "none",
        "snoopId": "snoop-1",
        "appArgs": "asr",
    }


async def test_external_media(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/channels/externalMedia", 200, samples.channel(id="em-1", name="UnicastRTP/x"))
    ch = await client.channels.external_media(app="ivr", external_host="127.0.0.1:40000", channel_id="em-1")
    assert ch.id == "em-1"
    assert dict(fake.requests[-1].query) == {
        "app": "ivr",
        "external_host": "127.0.0.1:40000",
        "format": "slin16",
        "channelId": "em-1",
        "encapsulation": "rtp",
        "transport": "udp",
        "direction": "both",
    }


async def test_record(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/channels/c1/record", 201, {**samples.RECORDING, "state": "queued"})
    rec = await client.channels.record(
        "c1", name="vm/1", max_duration=60, max_silence=5, beep=True, terminate_on="#"
    )
    assert isinstance(rec, LiveRecording)
    assert rec.state == "queued"
    assert dict(fake.requests[-1].query) == {
        "name": "vm/1",
        "format": "wav",
        "maxDurationSeconds": "60",
        "maxSilenceSeconds": "5",
        "beep": "true",
        "terminateOn": "#",
        "ifExists": "overwrite",
    }


async def test_variables(fake: FakeAri, client: AriClient) -> None:
    fake.reply("GET", "/channels/c1/variable", 200, {"value": "ja"})
    assert await client.channels.get_var("c1", "CHANNEL(language)") == "ja"
    assert fake.requests[-1].param("variable") == ["CHANNEL(language)"]
    await client.channels.set_var("c1", "IVR_NODE", "menu")
    assert dict(fake.requests[-1].query) == {"variable": "IVR_NODE", "value": "menu"}


@pytest.mark.parametrize(
    ("call", "method", "path", "query"),
    [
        (lambda c: c.channels.answer("c1"), "POST", "/channels/c1/answer", {}),
        (lambda c: c.channels.ring("c1"), "POST", "/channels/c1/ring", {}),
        (lambda c: c.channels.hangup("c1"), "DELETE", "/channels/c1", {"reason": "normal"}),
        (lambda c: c.channels.hangup("c1", reason="busy"), "DELETE", "/channels/c1", {"reason": "busy"}),
        (
            lambda c: c.channels.continue_in_dialplan("c1", context="fallback", extension="s", priority=1),
            "POST",
            "/channels/c1/continue",
            {"context": "fallback", "extension": "s", "priority": "1"},
        ),
        (lambda c: c.channels.send_dtmf("c1", "12#"), "POST", "/channels/c1/dtmf", {"dtmf": "12#"}),
        (
            lambda c: c.channels.start_moh("c1", "default"),
            "POST",
            "/channels/c1/moh",
            {"mohClass": "default"},
        ),
        (lambda c: c.channels.start_moh("c1"), "POST", "/channels/c1/moh", {}),
        (lambda c: c.channels.stop_moh("c1"), "DELETE", "/channels/c1/moh", {}),
        (
            lambda c: c.bridges.add_channel("b1", ["c1", "c2"]),
            "POST",
            "/bridges/b1/addChannel",
            {"channel": "c1,c2"},
        ),
        (
            lambda c: c.bridges.remove_channel("b1", ["c2"]),
            "POST",
            "/bridges/b1/removeChannel",
            {"channel": "c2"},
        ),
        (lambda c: c.bridges.destroy("b1"), "DELETE", "/bridges/b1", {}),
        (lambda c: c.playbacks.stop("pb-1"), "DELETE", "/playbacks/pb-1", {}),
        (lambda c: c.asterisk.reload_module("res_pjsip.so"), "PUT", "/asterisk/modules/res_pjsip.so", {}),
        (
            lambda c: c.asterisk.delete_dynamic_config("res_pjsip", "endpoint", "agent-101"),
            "DELETE",
            "/asterisk/config/dynamic/res_pjsip/endpoint/agent-101",
            {},
        ),
        (lambda c: c.recordings.stop("vm/1"), "POST", "/recordings/live/vm%2F1/stop", {}),
        (lambda c: c.recordings.delete_stored("vm1"), "DELETE", "/recordings/stored/vm1", {}),
    ],
)
async def test_simple_operations(
    fake: FakeAri, client: AriClient, call: object, method: str, path: str, query: dict[str, str]
) -> None:
    assert callable(call)
    assert await call(client) is None
    rec = fake.requests[-1]
    assert (rec.method, rec.path, dict(rec.query)) == (method, path, query)


async def test_bridge_create(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/bridges", 200, samples.BRIDGE)
    bridge = await client.bridges.create(bridge_id="b-7f3a", name="call-7")
    assert bridge.id == "b-7f3a"
    assert bridge.bridge_type == "mixing"
    assert bridge.channels == ("1732410123.42", "1732410130.44")
    assert dict(fake.requests[-1].query) == {"type": "mixing", "bridgeId": "b-7f3a", "name": "call-7"}


async def test_dynamic_config_put(fake: FakeAri, client: AriClient) -> None:
    result = [{"attribute": "auth_type", "value": "userpass"}]
    fake.reply("PUT", "/asterisk/config/dynamic/res_pjsip/auth/agent-101", 200, result)
    got = await client.asterisk.put_dynamic_config(
        "res_pjsip", "auth", "agent-101", {"auth_type": "userpass", "username": "agent-101"}
    )
    assert got == result
    assert fake.requests[-1].body == {
        "fields": [
            {"attribute": "auth_type", "value": "userpass"},
            {"attribute": "username", "value": "agent-101"},
        ]
    }


async def test_application_endpoint_and_channel_list(fake: FakeAri, client: AriClient) -> None:
    fake.reply(
        "GET",
        "/applications/ivr",
        200,
        {
            "name": "ivr",
            "channel_ids": ["c1", "c2"],
            "bridge_ids": ["b1"],
            "endpoint_ids": [],
            "device_names": [],
            "events_allowed": [],
            "events_disallowed": [],
        },
    )
    app = await client.applications.get("ivr")
    assert (app.name, app.channel_ids, app.bridge_ids, app.endpoint_ids) == ("ivr", ("c1", "c2"), ("b1",), ())
    fake.reply(
        "GET",
        "/endpoints/PJSIP/agent-101",
        200,
        {"technology": "PJSIP", "resource": "agent-101", "state": "online", "channel_ids": []},
    )
    ep = await client.endpoints.get("PJSIP", "agent-101")
    assert (ep.technology, ep.resource, ep.state) == ("PJSIP", "agent-101", "online")
    fake.reply(
        "GET",
        "/endpoints/PJSIP",
        200,
        [
            {"technology": "PJSIP", "resource": r, "state": st, "channel_ids": []}
            for r, st in (("2101", "online"), ("2102", "offline"))
        ],
    )
    listed = await client.endpoints.list("PJSIP")
    assert [(e.resource, e.state) for e in listed] == [("2101", "online"), ("2102", "offline")]
    fake.reply("GET", "/channels", 200, [samples.channel(), samples.channel(id="c2")])
    chans = await client.channels.list()
    assert [c.id for c in chans] == ["1732410123.42", "c2"]


async def test_application_event_filter_body(fake: FakeAri, client: AriClient) -> None:
    fake.reply(
        "PUT",
        "/applications/ivr/eventFilter",
        200,
        {"name": "ivr", "channel_ids": [], "bridge_ids": [], "endpoint_ids": [], "device_names": []},
    )
    app = await client.applications.filter_events("ivr", disallowed=["ChannelVarset", "ChannelDialplan"])
    assert app.name == "ivr"
    rec = fake.requests[-1]
    assert (rec.method, rec.path) == ("PUT", "/applications/ivr/eventFilter")
    assert rec.body == {"disallowed": [{"type": "ChannelVarset"}, {"type": "ChannelDialplan"}]}
