"""When ``ivr up`` restarts its controller, and how long it waits when the controller keeps dying."""

from __future__ import annotations

import pytest

from ivr.supervisor import STARTUP_ERROR, AfterExit, RestartPolicy, after_exit, describe_status, restart_delay

POLICY = RestartPolicy(quick_s=10.0, burst=5, immediate_s=0.0, backoff_s=2.0, max_delay_s=60.0)


@pytest.mark.parametrize("status", [-9, -11, 0, 1, STARTUP_ERROR])
def test_a_controller_that_dies_is_restarted_whatever_its_status(status: int) -> None:
    assert after_exit(status, stopping=False, first_run=False) is AfterExit.RESTART


@pytest.mark.parametrize("status", [-9, 0, 1])
def test_a_first_run_killed_or_failing_otherwise_is_restarted(status: int) -> None:
    assert after_exit(status, stopping=False, first_run=True) is AfterExit.RESTART


def test_a_first_start_that_fails_on_a_startup_error_gives_up() -> None:
    assert after_exit(STARTUP_ERROR, stopping=False, first_run=True) is AfterExit.GIVE_UP


@pytest.mark.parametrize("status", [-9, 0, STARTUP_ERROR])
def test_our_own_stop_is_never_restarted(status: int) -> None:
    assert after_exit(status, stopping=True, first_run=True) is AfterExit.STOPPED
    assert after_exit(status, stopping=True, first_run=False) is AfterExit.STOPPED


def test_a_long_lived_controller_is_restarted_at_once() -> None:
    assert restart_delay([3600.0], POLICY) == 0.0


def test_up_to_four_quick_deaths_in_a_row_are_restarted_at_once() -> None:
    for deaths in range(1, 5):
        assert restart_delay([1.0] * deaths, POLICY) == 0.0


def test_from_the_fifth_quick_death_the_wait_doubles_up_to_the_limit() -> None:
    waits = [restart_delay([1.0] * deaths, POLICY) for deaths in range(5, 12)]
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_a_run_that_lasted_resets_the_count_of_quick_deaths() -> None:
    assert restart_delay([1.0] * 8 + [600.0] + [1.0] * 2, POLICY) == 0.0
    assert restart_delay([600.0] + [1.0] * 6, POLICY) == 4.0


def test_exit_status_reads_as_a_signal_name_or_a_status() -> None:
    assert describe_status(-9) == "killed by SIGKILL"
    assert describe_status(-15) == "killed by SIGTERM"
    assert describe_status(1) == "exit status 1"
    assert describe_status(-200) == "killed by signal 200"
