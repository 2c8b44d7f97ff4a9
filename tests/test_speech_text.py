from ivr.speech_text import digit_word, digits_to_words, has_ideographs


def test_japanese_seven_is_nana() -> None:
    assert digits_to_words("7", "ja") == "なな"


def test_japanese_never_ambiguous_readings() -> None:
    words = digits_to_words("0123456789", "ja").split("、")
    assert words == ["ゼロ", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう"]
    assert "しち" not in words and "し" not in words and "く" not in words


def test_english() -> None:
    assert digits_to_words("4271", "en") == "four two seven one"


def test_skips_non_digits() -> None:
    assert digits_to_words("42-7 1", "en") == "four two seven one"


def test_unknown_language_falls_back_to_english() -> None:
    assert digit_word("3", "xx") == "three"


def test_has_ideographs() -> None:
    assert has_ideographs("ご注文")
    assert not has_ideographs("ごちゅうもん")
