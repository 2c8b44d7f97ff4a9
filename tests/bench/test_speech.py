"""bench.speech's scoring: digit strings, menu options (any word of the option counts), out-of-menu words."""

from __future__ import annotations

import numpy as np

from bench.speech import Sample, Tally, digit_strings, judge
from ivr.asr.grammar import DIGITS

MENU: dict[str, tuple[str, ...]] = {"1": ("order", "orders"), "2": ("return", "returns")}
AUDIO = np.zeros(160, np.int16)


def _menu(expected: str | None) -> Sample:
    return Sample("menu", "en", AUDIO, ("order", "orders", "return", "returns"), expected, MENU)


def test_digit_strings_are_4_to_8_digits_and_the_same_for_the_seed() -> None:
    strings = digit_strings(30)
    assert strings == digit_strings(30)
    assert all(s.isdigit() and 4 <= len(s) <= 8 for s in strings)
    assert len(set(strings)) > 25


def test_a_digit_string_is_right_only_when_every_digit_is() -> None:
    tally = Tally()
    sample = Sample("digits", "en", AUDIO, (DIGITS,), "4271")
    assert judge(sample, ("4271", 0.9), tally)
    assert not judge(sample, ("427", 0.9), tally)
    assert not judge(sample, None, tally)
    assert (tally.right, tally.wrong, tally.rejected) == (1, 1, 1)


def test_a_menu_word_counts_for_its_option_whichever_word_came_back() -> None:
    tally = Tally()
    assert judge(_menu("1"), ("orders", 0.8), tally)
    assert not judge(_menu("1"), ("returns", 0.8), tally)
    assert (tally.right, tally.wrong) == (1, 1)


def test_an_out_of_menu_word_is_right_only_when_nothing_is_taken() -> None:
    tally = Tally()
    assert judge(_menu(None), None, tally)
    assert not judge(_menu(None), ("order", 0.3), tally)
    assert (tally.false_accepts, tally.out_of_menu, tally.right + tally.wrong + tally.rejected) == (1, 2, 0)
