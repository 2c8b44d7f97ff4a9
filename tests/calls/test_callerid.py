from ivr.calls.callerid import MAX_NAME, caller_name, caller_number, unescape_quoted_pairs


def test_quoted_pairs_are_unescaped() -> None:
    assert unescape_quoted_pairs(r"Say \"hi\" \\ bye") == 'Say "hi" \\ bye'
    assert unescape_quoted_pairs("trailing\\") == "trailing\\"


def test_hostile_names_kept_verbatim() -> None:
    for name in ["Robert'); DROP TABLE calls;--", "<script>alert(1)</script>", "山田 太郎", "%s ? {0}"]:
        assert caller_name(name) == name


def test_control_characters_dropped_and_length_bounded() -> None:
    assert caller_name("a\x00b\r\nc\x1b[31m") == "abc[31m"
    assert len(caller_name("x" * 1000)) == MAX_NAME
    assert caller_number(None) == ""
    assert caller_number("+81 3-1234\t5678") == "+81 3-12345678"
