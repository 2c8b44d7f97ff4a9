"""Strict skips: on CI (``CI=true``) or with ``IVR_STRICT_SKIPS=1`` a skipped test is a failure.

``make test`` installs every part the tests need (espeak-ng, sox, sipp, Asterisk, Vosk models…), so a
skip there means something is missing and would otherwise pass unnoticed. A skip inside a test or
its setup (``pytest.skip``, ``skipif``) is reported as a failure carrying the skip reason; a whole
module skipped at import (``importorskip``) is listed at the end and fails the run. Expected
failures (``xfail``) are not skips and are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

STRICT_ENV = ("CI", "IVR_STRICT_SKIPS")


def strict() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("IVR_STRICT_SKIPS") == "1"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if strict() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, but skips fail the run on CI (CI=true or IVR_STRICT_SKIPS=1): {_reason(report)}"
        )


MODULE_SKIPS = pytest.StashKey[list[str]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, None, None]:
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()
    if strict() and report.skipped:
        collector.config.stash.setdefault(MODULE_SKIPS, []).append(f"{report.nodeid}: {_reason(report)}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    skipped = config.stash.get(MODULE_SKIPS, [])
    if skipped:
        terminalreporter.section("modules skipped (skips fail the run on CI)", red=True)
        for line in skipped:
            terminalreporter.line(line, red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.stash.get(MODULE_SKIPS, []) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
