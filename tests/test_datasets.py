import calendar
import datetime
import re

import numpy as np
import pytest

from sk_attention.datasets import (
    _DATE_FORMATS,
    _date_fields,
    _to_phonemes,
    make_dates,
    make_reversal,
    make_transliteration,
)

GENERATORS = [make_dates, make_reversal, make_transliteration]

# English names from the "C" locale, independent of the generator's tables.
MONTHS = {
    name.lower(): number
    for names in (calendar.month_name, calendar.month_abbr)
    for number, name in enumerate(names)
    if name
}
WEEKDAYS = {
    name.lower(): number
    for names in (calendar.day_name, calendar.day_abbr)
    for number, name in enumerate(names)
}
PHONEMES = set(
    "AA AE AH AW AY B CH D EH EY F G HH IH IY JH K L M N NG OW P R S SH T TH "
    "UW V W Y Z".split()
)


# shared behaviour


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data(make):
    assert make(50, random_state=3) == make(50, random_state=3)
    assert make(50, random_state=3) != make(50, random_state=4)


@pytest.mark.parametrize("make", GENERATORS)
def test_random_state_instance_is_used(make):
    first = make(20, random_state=np.random.RandomState(0))
    assert first == make(20, random_state=0)


@pytest.mark.parametrize("make", GENERATORS)
def test_returns_two_lists_of_str(make):
    X, y = make(7, random_state=0)
    assert isinstance(X, list) and isinstance(y, list)
    assert len(X) == len(y) == 7
    assert all(type(item) is str for item in X + y)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n_samples", [0, -5])
def test_n_samples_must_be_positive(make, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n_samples", [2.5, "10", None])
def test_n_samples_must_be_an_int(make, n_samples):
    with pytest.raises(TypeError, match="n_samples"):
        make(n_samples)


# make_dates


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    # The documented pivot for two-digit years.
    year = int(text)
    return 1900 + year if year >= 50 else 2000 + year


def _parse_numeric(text: str) -> datetime.date:
    if re.fullmatch(r"\d{8}", text):
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    parts = re.split(r"[/.\-]", text)
    if len(parts[0]) == 4:  # year first: year, month, day
        return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))
    return datetime.date(_year(parts[2]), int(parts[1]), int(parts[0]))


def _parse_written(words: list[str]) -> datetime.date:
    words = [w for w in words if w not in ("the", "of")]
    if words[0] in WEEKDAYS:
        words = words[1:]
    if words[0] in MONTHS:  # month day year
        month, day, year = words
    else:  # day month year
        day, month, year = words
    return datetime.date(_year(year), MONTHS[month], int(day))


def parse_date(text: str) -> datetime.date:
    """An independent reading of the written date, by its documented rules."""
    text = text.lower()
    text = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", text)
    words = text.replace(",", " ").replace("'", "").split()
    if len(words) == 1:
        return _parse_numeric(words[0])
    return _parse_written(words)


def date_format(text: str) -> str:
    """The format of a written date, with the values taken out."""
    text = re.sub(r"\d+", "9", text.lower())

    def name(match):
        word = match.group()
        if word in MONTHS:
            return "M" if len(word) > 3 else "m"
        if word in WEEKDAYS:
            return "W" if len(word) > 3 else "w"
        return word

    return re.sub(r"[a-z]+", name, text)


@pytest.fixture(scope="module")
def dates():
    return make_dates(3000, random_state=0)


def test_dates_are_iso_and_in_range(dates):
    _, y = dates
    for iso in y:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso)
        date = datetime.date.fromisoformat(iso)
        assert datetime.date(1950, 1, 1) <= date <= datetime.date(2049, 12, 31)


def test_dates_cover_the_range(dates):
    years = {int(iso[:4]) for iso in dates[1]}
    assert min(years) < 1955 and max(years) > 2045
    assert {int(iso[5:7]) for iso in dates[1]} == set(range(1, 13))


def test_each_input_names_its_output_date(dates):
    for written, iso in zip(*dates):
        assert parse_date(written) == datetime.date.fromisoformat(iso), written


def test_weekday_names_are_correct(dates):
    n_checked = 0
    for written, iso in zip(*dates):
        weekday = datetime.date.fromisoformat(iso).weekday()
        for word in re.findall(r"[a-z]+", written.lower()):
            if word in WEEKDAYS:
                assert WEEKDAYS[word] == weekday, written
                n_checked += 1
    assert n_checked > 300


def test_known_dates_are_written_correctly():
    fields = _date_fields(datetime.date(2021, 3, 3))
    written = {template.format(**fields) for template in _DATE_FORMATS}
    expected = {
        "3rd of March 2021",
        "Wednesday, March 3, 2021",
        "Wed 3 Mar 2021",
        "March 3rd, 2021",
        "3 Mar '21",
        "03/03/21",
        "3-3-2021",
        "2021.03.03",
        "03.03.2021",
        "20210303",
    }
    assert expected <= written


@pytest.mark.parametrize(
    "day, ordinal",
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (31, "31st"),
    ],
)
def test_ordinal_days(day, ordinal):
    assert _date_fields(datetime.date(2020, 1, day))["dth"] == ordinal


def test_at_least_fifteen_formats(dates):
    formats = {date_format(written) for written in dates[0]}
    assert len(formats) >= 15, sorted(formats)


def test_casing_varies(dates):
    worded = [x for x in dates[0] if re.search(r"[a-zA-Z]", x)]
    assert any(x.isupper() for x in worded)
    assert any(x.islower() for x in worded)
    assert any(x[0].isupper() and not x.isupper() for x in worded)


def test_every_input_has_one_output():
    X, y = make_dates(20000, random_state=2)
    seen = {}
    for written, iso in zip(X, y):
        assert seen.setdefault(written, iso) == iso, written


# make_reversal


def test_reversal_reverses():
    X, y = make_reversal(200, random_state=0)
    assert all(target == source[::-1] for source, target in zip(X, y))


def test_reversal_respects_lengths_and_alphabet():
    X, _ = make_reversal(
        500, min_length=2, max_length=4, alphabet="xyz", random_state=0
    )
    assert {len(x) for x in X} == {2, 3, 4}
    assert set("".join(X)) == set("xyz")


def test_reversal_with_fixed_length():
    X, _ = make_reversal(20, min_length=5, max_length=5, random_state=0)
    assert {len(x) for x in X} == {5}


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"min_length": 0}, ValueError, "min_length"),
        ({"min_length": 2.0}, TypeError, "min_length"),
        ({"max_length": "9"}, TypeError, "max_length"),
        ({"min_length": 5, "max_length": 4}, ValueError, "max_length must be >="),
        ({"alphabet": ""}, ValueError, "alphabet"),
        ({"alphabet": ["a", "b"]}, TypeError, "alphabet"),
    ],
)
def test_reversal_validates_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_reversal(10, **kwargs)


# make_transliteration


@pytest.mark.parametrize(
    "word, phonemes",
    [
        ("cap", "K AE P"),
        ("cape", "K EY P"),  # a silent final e lengthens the vowel
        ("rice", "R AY S"),  # c before e is soft
        ("cell", "S EH L"),  # ... and a doubled consonant is said once
        ("gem", "JH EH M"),
        ("gate", "G EY T"),
        ("phase", "F EY S"),
        ("shoot", "SH UW T"),
        ("quick", "K W IH K"),
        ("box", "B AA K S"),
        ("happy", "HH AE P IY"),  # final y is a vowel
        ("yes", "Y EH S"),  # initial y is a consonant
        ("the", "TH IY"),  # a final e that is the only vowel is said
        ("coat", "K OW T"),
    ],
)
def test_pronunciation_rules(word, phonemes):
    assert _to_phonemes(word) == phonemes


@pytest.fixture(scope="module")
def words():
    return make_transliteration(2000, random_state=0)


def test_words_are_lower_case_letters(words):
    assert all(re.fullmatch(r"[a-z]+", word) for word in words[0])


def test_phonemes_come_from_the_inventory(words):
    for word, phonemes in zip(*words):
        assert phonemes.split(" ") and set(phonemes.split(" ")) <= PHONEMES, word


def test_each_word_has_one_pronunciation():
    X, y = make_transliteration(5000, random_state=1)
    seen = {}
    for word, phonemes in zip(X, y):
        assert seen.setdefault(word, phonemes) == phonemes, word


def test_the_task_needs_context(words):
    # The same letter is pronounced differently depending on its neighbours.
    sounds_of_c = set()
    for word, phonemes in zip(*words):
        if word.startswith("c") and word[1] not in "hk":
            sounds_of_c.add(phonemes.split(" ")[0])
    assert sounds_of_c == {"K", "S"}


def test_docstring_sentences_are_labelled_by_their_module():
    from sk_attention.datasets import load_docstring_sentences

    X, y, groups = load_docstring_sentences(["svm", "tree"])
    assert len(X) == len(y) == len(groups) > 50
    assert set(y) == {"svm", "tree"}
    assert all(group.startswith(f"{label}.") for label, group in zip(y, groups))
    assert all(sentence == sentence.lower() and len(sentence.split()) >= 4
               for sentence in X)
