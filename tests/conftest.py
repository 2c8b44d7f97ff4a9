"""Hooks for the whole test suite."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.postgres_fixtures import pg_cluster, pg_private_cluster, pg_url
from tests.strict_skips import (
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

__all__ = [
    "pg_cluster",
    "pg_private_cluster",
    "pg_url",
    "pytest_make_collect_report",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
]

# Property-based (fuzz) tests: modest by default so they stay quick in `make test`, reproducible under
# CI=true (derandomized), and long with HYPOTHESIS_PROFILE=deep.
for _name, _examples in (("default", 60), ("ci", 60), ("deep", 5000)):
    settings.register_profile(
        _name,
        max_examples=_examples,
        derandomize=_name == "ci",
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "default")
)
