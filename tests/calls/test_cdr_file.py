from __future__ import annotations

from pathlib import Path

from ivr.calls.cdr_file import CdrTail
from tests.calls.test_cdr import line


def _ids(tail: CdrTail) -> list[str]:
    read = tail.read()
    assert read is not None
    chunk, position, _more = read
    tail.commit(position)
    return [r.uniqueid for r in chunk.rows]


def test_rows_are_read_once_and_the_position_survives_a_new_process(tmp_path: Path) -> None:
    csv, state = tmp_path / "Master.csv", tmp_path / "pos.json"
    csv.write_bytes(line(uniqueid="m-1.1") + line(uniqueid="m-1.2")[:20])
    assert _ids(CdrTail(csv, state)) == ["m-1.1"]
    with csv.open("ab") as f:
        f.write(line(uniqueid="m-1.2")[20:] + line(uniqueid="m-1.3"))
    assert _ids(CdrTail(csv, state)) == ["m-1.2", "m-1.3"]
    assert _ids(CdrTail(csv, state)) == []


def test_an_uncommitted_read_is_read_again_by_a_new_process_but_not_by_the_same(tmp_path: Path) -> None:
    csv, state = tmp_path / "Master.csv", tmp_path / "pos.json"
    csv.write_bytes(line(uniqueid="m-1.1"))
    tail = CdrTail(csv, state)
    assert tail.read() is not None
    again = tail.read()
    assert again is not None and again[0].rows == []
    fresh = CdrTail(csv, state).read()
    assert fresh is not None and [r.uniqueid for r in fresh[0].rows] == ["m-1.1"]


def test_a_truncated_or_rotated_file_is_read_from_the_start(tmp_path: Path) -> None:
    csv, state = tmp_path / "Master.csv", tmp_path / "pos.json"
    csv.write_bytes(line(uniqueid="m-1.1") + line(uniqueid="m-1.2"))
    assert len(_ids(CdrTail(csv, state))) == 2
    csv.write_bytes(line(uniqueid="m-2.1"))  # truncated, shorter
    assert _ids(CdrTail(csv, state)) == ["m-2.1"]
    rotated = tmp_path / "new.csv"
    rotated.write_bytes(line(uniqueid="m-3.1"))
    rotated.replace(csv)  # a new inode
    assert _ids(CdrTail(csv, state)) == ["m-3.1"]
    csv.write_bytes(
        line(uniqueid="m-4.1") + line(uniqueid="m-4.2") + line(uniqueid="m-4.3")
    )  # rewritten, longer
    assert _ids(CdrTail(csv, state)) == ["m-4.1", "m-4.2", "m-4.3"]


def test_a_missing_file_or_a_broken_position_file_is_harmless(tmp_path: Path) -> None:
    csv, state = tmp_path / "Master.csv", tmp_path / "pos.json"
    assert CdrTail(csv, state).read() is None
    csv.write_bytes(line(uniqueid="m-1.1"))
    state.write_text("{not json")
    assert _ids(CdrTail(csv, state)) == ["m-1.1"]


def test_a_big_file_is_read_in_pieces(tmp_path: Path) -> None:
    csv, state = tmp_path / "Master.csv", tmp_path / "pos.json"
    csv.write_bytes(b"".join(line(uniqueid=f"m-1.{n}") for n in range(50)))
    tail = CdrTail(csv, state, max_bytes=1000)
    seen: list[str] = []
    while True:
        read = tail.read()
        assert read is not None
        seen += [r.uniqueid for r in read[0].rows]
        if not read[2]:
            break
    assert seen == [f"m-1.{n}" for n in range(50)]
