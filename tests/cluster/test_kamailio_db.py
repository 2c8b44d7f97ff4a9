from __future__ import annotations

from pathlib import Path

import pytest

from ivr.cluster.kamailio_db import SQL_DIR, KamailioSchemaMissing, kamailio_db_url, usrloc_schema


def test_the_url_is_the_form_kamailio_reads_with_or_without_a_password() -> None:
    assert kamailio_db_url("127.0.0.1", 55432, "ivr", "ivr") == "postgres://ivr@127.0.0.1:55432/ivr"
    assert kamailio_db_url("db", 5432, "k", "u", "s3") == "postgres://u:s3@db:5432/k"


@pytest.mark.skipif(not SQL_DIR.is_dir(), reason="kamailio not installed (apt-get install kamailio)")
def test_the_schema_creates_the_version_and_location_tables() -> None:
    sql = usrloc_schema()
    assert "CREATE TABLE version" in sql and "CREATE TABLE location" in sql


def test_missing_sql_files_name_the_package(tmp_path: Path) -> None:
    with pytest.raises(KamailioSchemaMissing, match="apt-get install kamailio"):
        usrloc_schema(tmp_path)
