from __future__ import annotations

import asyncio

import pytest

from ivr.event_loop import loop_factory, loop_name
from ivr.settings import SettingsError


def test_the_default_is_the_standard_loop_even_with_uvloop_installed() -> None:
    assert loop_name(None, uvloop_installed=True) == "asyncio"
    assert loop_name("", uvloop_installed=False) == "asyncio"


def test_a_named_loop_is_taken_whatever_the_case() -> None:
    assert loop_name(" AsyncIO ", uvloop_installed=True) == "asyncio"
    assert loop_name("uvloop", uvloop_installed=True) == "uvloop"


@pytest.mark.parametrize(
    ("value", "installed", "hint"),
    [("trio", True, "use uvloop or asyncio"), ("uvloop", False, "not installed")],
)
def test_a_loop_that_cannot_be_had_is_a_settings_error_naming_the_variable(
    value: str, installed: bool, hint: str
) -> None:
    with pytest.raises(SettingsError, match="IVR_EVENT_LOOP") as caught:
        loop_name(value, uvloop_installed=installed)
    assert hint in str(caught.value)


def test_asyncio_means_the_standard_loop() -> None:
    assert loop_factory("asyncio") is None


def test_uvloop_factory_runs_a_coroutine_on_a_uvloop_loop() -> None:
    import uvloop  # a dev dependency: the option stays tested

    factory = loop_factory("uvloop")
    assert factory is not None

    async def which() -> type:
        return type(asyncio.get_running_loop())

    with asyncio.Runner(loop_factory=factory) as runner:
        assert runner.run(which()) is uvloop.Loop


def test_the_environment_variable_is_read_when_no_value_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_EVENT_LOOP", "asyncio")
    assert loop_factory() is None
    monkeypatch.setenv("IVR_EVENT_LOOP", "bogus")
    with pytest.raises(SettingsError):
        loop_factory()
