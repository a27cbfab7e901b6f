from __future__ import annotations

from ocr.correct import correct_line, correct_patterns, correct_words
from ocr.engine import Reading


def _reading(text: str, unsure: dict[int, list[tuple[str, float]]]) -> Reading:
    alts = [unsure.get(i, [(c, 0.99)]) for i, c in enumerate(text)]
    return Reading(text, 0.9, alts)


def test_lexicon_settles_an_uncertain_character() -> None:
    r = _reading("展滔科技大展A1207", {5: [("展", 0.55), ("厦", 0.30), ("屋", 0.05)]})
    assert correct_words(r) == "展滔科技大厦A1207"


def test_confident_character_is_never_changed() -> None:
    r = _reading("科技大展A1207", {3: [("展", 0.97), ("厦", 0.02)]})
    assert correct_words(r) == "科技大展A1207"


def test_replacement_must_be_among_the_models_candidates() -> None:
    r = _reading("民洽大道", {1: [("洽", 0.6), ("治", 0.0001), ("冶", 0.2)]})
    assert correct_words(r) == "民洽大道"
    r = _reading("民洽大道", {1: [("洽", 0.6), ("治", 0.3)]})
    assert correct_words(r) == "民治大道"


def test_date_and_amount_digits() -> None:
    text = "2016年O6月12日 ¥5O7.82"
    alts = [[(c, 0.99)] for c in text]
    alts[5] = [("O", 0.5), ("0", 0.4)]
    alts[14] = [("O", 0.6), ("0", 0.3)]
    assert correct_patterns(text, alts) == "2016年06月12日 ¥507.82"


def test_a_letter_in_an_id_number_becomes_the_digit_the_check_digit_confirms() -> None:
    def read(text: str) -> str:
        alts = [[("Z", 0.69), ("2", 0.31)] if c == "Z" else [(c, 0.99)] for c in text]
        return correct_patterns(text, alts)

    assert read("证件号码110105195006Z36037") == "证件号码110105195006236037"
    # where the digit would not pass the check, the number is left as read (to be re-read or flagged)
    assert read("110105195006Z36038") == "110105195006Z36038"
    # a credit code of letters and digits is no ID number
    code = "91440101MA5CXK2U3T"
    assert correct_patterns(code, [[(c, 0.5), ("0", 0.4)] for c in code]) == code


def test_engine_without_alternatives_changes_nothing() -> None:
    assert correct_line(Reading("大展", 0.5, [])) == "大展"
