"""``tests/strict_skips.py``: a skip fails the run on CI, with its reason; elsewhere it stays a skip."""

from __future__ import annotations

import pytest

from tests import strict_skips

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_runs():
    pass

def test_skips_inside():
    pytest.skip("sox is not installed")

@pytest.mark.skipif(True, reason="needs sipp (sip-tester)")
def test_skipif():
    pass

@pytest.mark.xfail(strict=True, reason="known bug")
def test_known_bug():
    assert False
"""

MODULE_SKIP = """
import pytest

pytest.importorskip("no_such_module_for_sure", reason="pip install no_such_module_for_sure")

def test_never_collected():
    pass
"""


@pytest.fixture
def isolated(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in ("CI", "IVR_STRICT_SKIPS"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", "-rs", plugins=[strict_skips])


def test_skips_stay_skips_outside_ci(isolated: pytest.Pytester) -> None:
    isolated.makepyfile(test_a=SKIPPING, test_b=MODULE_SKIP)
    result = run(isolated)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize(("name", "value"), [("CI", "true"), ("IVR_STRICT_SKIPS", "1")])
def test_on_ci_a_skip_is_a_failure_with_its_reason(
    isolated: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    isolated.makepyfile(test_a=SKIPPING)
    result = run(isolated)
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 1 and outcomes["xfailed"] == 1 and "skipped" not in outcomes
    assert outcomes.get("failed", 0) + outcomes.get("error", 0) + outcomes.get("errors", 0) == 2
    result.stdout.fnmatch_lines(["*skips fail the run on CI*: sox is not installed"])
    result.stdout.fnmatch_lines(["*skips fail the run on CI*: needs sipp (sip-tester)"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_on_ci_a_module_skipped_at_import_fails_the_run(
    isolated: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    isolated.makepyfile(test_ok="def test_ok():\n    pass\n", test_b=MODULE_SKIP)
    result = run(isolated)
    result.stdout.fnmatch_lines(["*modules skipped*", "*test_b.py*pip install no_such_module_for_sure*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
