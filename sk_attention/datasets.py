"""Sequence tasks made locally: synthetic seq2seq pairs, and real short texts.

Each generator returns ``(X, y)``, two lists of strings, and follows
scikit-learn's ``random_state`` convention: the same seed gives the same data.
:func:`load_docstring_sentences` reads the sentences of scikit-learn's own
docstrings. Nothing is ever downloaded.
"""

import datetime
import importlib
import inspect
import re
import string
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state, check_scalar

__all__ = [
    "load_docstring_sentences",
    "make_dates",
    "make_reversal",
    "make_transliteration",
]

# ---------------------------------------------------------------------------
# Dates

_FIRST_DATE = datetime.date(1950, 1, 1)
_LAST_DATE = datetime.date(2049, 12, 31)

# Fields: d/dd day, dth ordinal day, m/mm month number, month/mon month name,
# yyyy/yy year, weekday/wkd weekday name. The make_dates docstring explains
# why no template is ambiguous.
_DATE_FORMATS = (
    "{dth} of {month} {yyyy}",
    "the {dth} of {month}, {yyyy}",
    "{weekday} the {dth} of {month} {yyyy}",
    "{weekday}, {month} {d}, {yyyy}",
    "{weekday} {d} {month} {yyyy}",
    "{wkd} {d} {mon} {yyyy}",
    "{month} {dth}, {yyyy}",
    "{month} {d} {yyyy}",
    "{mon} {d}, {yyyy}",
    "{d} {month} {yyyy}",
    "{d} {mon} {yyyy}",
    "{d} {mon} '{yy}",
    "{dd}/{mm}/{yy}",
    "{dd}/{mm}/{yyyy}",
    "{d}/{m}/{yyyy}",
    "{d}-{m}-{yyyy}",
    "{dd}.{mm}.{yyyy}",
    "{yyyy}.{mm}.{dd}",
    "{yyyy}{mm}{dd}",
)

# The written forms most people use: as generated, all lower, all upper, and
# each word capitalised.
_CASINGS = (str, str.lower, str.upper, string.capwords)

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
_ORDINAL_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else _ORDINAL_SUFFIXES.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_fields(date: datetime.date) -> dict:
    # English names from fixed tables: strftime's %A and %B follow the locale.
    month = _MONTHS[date.month - 1]
    weekday = _WEEKDAYS[date.weekday()]
    return {
        "d": str(date.day),
        "dd": f"{date.day:02d}",
        "dth": _ordinal(date.day),
        "m": str(date.month),
        "mm": f"{date.month:02d}",
        "month": month,
        "mon": month[:3],
        "yyyy": str(date.year),
        "yy": f"{date.year % 100:02d}",
        "weekday": weekday,
        "wkd": weekday[:3],
    }


def _check_n_samples(n_samples) -> None:
    check_scalar(n_samples, "n_samples", Integral, min_val=1)


def make_dates(
    n_samples: int = 1000, *, random_state=None
) -> tuple[list[str], list[str]]:
    """Human-written dates and their ISO 8601 form.

    Dates are drawn uniformly between 1950-01-01 and 2049-12-31 and written
    in one of 19 formats, chosen uniformly, such as ``"3rd of March 2021"``,
    ``"Wednesday, March 3, 2021"``, ``"3 Mar '21"``, ``"03/03/21"``,
    ``"2021.03.03"`` or ``"20210303"``. Formats containing words appear as
    generated, in lower case, in upper case or with every word capitalised.
    The target is the ISO date, ``"2021-03-03"``.

    Every input determines its output:

    - numeric dates with the year last put the day before the month
      (``dd/mm/yy``, ``d/m/yyyy``, ``d-m-yyyy``, ``dd.mm.yyyy``);
    - numeric dates with the year first are year, month, day
      (``yyyy.mm.dd``, ``yyyymmdd``);
    - a two-digit year ``yy`` stands for 19yy when ``yy >= 50`` and for
      20yy otherwise, which is exact for the range drawn from;
    - weekday names, where present, are those of the date.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs to generate.
    random_state : int, RandomState instance or None, default=None
        Seed for the dates, formats and casings. Pass an int for
        reproducible output.

    Returns
    -------
    X : list of str
        The dates as written by people.
    y : list of str
        The same dates as ``YYYY-MM-DD``.

    See Also
    --------
    make_reversal : A task with no structure but its alignment.
    make_transliteration : Words to phonemes, with context rules.

    Examples
    --------
    >>> from sk_attention.datasets import make_dates
    >>> X, y = make_dates(3, random_state=0)
    >>> for written, iso in zip(X, y):
    ...     print(f"{written!r} -> {iso!r}")
    'June 25 1957' -> '1957-06-25'
    '29 February 2008' -> '2008-02-29'
    '20330329' -> '2033-03-29'
    """
    _check_n_samples(n_samples)
    rng = check_random_state(random_state)
    first, last = _FIRST_DATE.toordinal(), _LAST_DATE.toordinal()
    ordinals = rng.randint(first, last + 1, size=n_samples)
    formats = rng.randint(len(_DATE_FORMATS), size=n_samples)
    casings = rng.randint(len(_CASINGS), size=n_samples)
    X, y = [], []
    for ordinal, fmt, casing in zip(ordinals, formats, casings):
        date = datetime.date.fromordinal(int(ordinal))
        written = _DATE_FORMATS[fmt].format(**_date_fields(date))
        X.append(_CASINGS[casing](written))
        y.append(date.isoformat())
    return X, y


# ---------------------------------------------------------------------------
# Reversal


def make_reversal(
    n_samples: int = 1000,
    *,
    min_length: int = 3,
    max_length: int = 12,
    alphabet: str = "abcdefghij",
    random_state=None,
) -> tuple[list[str], list[str]]:
    """Random strings and the same strings reversed.

    The classic smoke test for sequence-to-sequence models: the output
    depends on every input position, in the opposite order.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs to generate.
    min_length : int, default=3
        Shortest string length, >= 1.
    max_length : int, default=12
        Longest string length, >= ``min_length``. Lengths are drawn
        uniformly between the two, inclusive.
    alphabet : str, default="abcdefghij"
        Characters to draw from, uniformly and independently.
    random_state : int, RandomState instance or None, default=None
        Seed for the lengths and characters. Pass an int for reproducible
        output.

    Returns
    -------
    X : list of str
        The random strings.
    y : list of str
        Each string reversed.

    See Also
    --------
    make_dates : Human-written dates to ISO dates.
    make_transliteration : Words to phonemes, with context rules.

    Examples
    --------
    >>> from sk_attention.datasets import make_reversal
    >>> X, y = make_reversal(2, min_length=3, max_length=5, random_state=0)
    >>> X, y
    (['add', 'hjdf'], ['dda', 'fdjh'])
    """
    _check_n_samples(n_samples)
    check_scalar(min_length, "min_length", Integral, min_val=1)
    check_scalar(max_length, "max_length", Integral)
    if max_length < min_length:
        raise ValueError(
            f"max_length must be >= min_length, got max_length={max_length} "
            f"and min_length={min_length}."
        )
    if not isinstance(alphabet, str):
        raise TypeError(f"alphabet must be a str of characters, got {alphabet!r}.")
    if not alphabet:
        raise ValueError("alphabet must hold at least one character, got ''.")
    rng = check_random_state(random_state)
    lengths = rng.randint(min_length, max_length + 1, size=n_samples)
    symbols = list(alphabet)
    X = ["".join(rng.choice(symbols, size=length)) for length in lengths]
    return X, [x[::-1] for x in X]


# ---------------------------------------------------------------------------
# Transliteration

_ONSETS = (
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s",
    "t", "v", "w", "y", "z", "ph", "th", "sh", "ch", "qu",
    "bl", "br", "cl", "cr", "gr", "pl", "st", "tr",
)  # fmt: skip
# Repeats weight the draw: single vowels are twice as common as each digraph,
# and a syllable has no coda about one time in five.
_NUCLEI = (
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "u",
    "ee", "ea", "oo", "ai", "ou", "oa",
)  # fmt: skip
_CODAS = (
    "", "", "", "", "b", "c", "d", "g", "l", "m", "n", "p", "r", "s", "t",
    "x", "ck", "ng", "ll", "ss", "tt", "ff",
)  # fmt: skip
# A word ending in a consonant may take a silent "e" or a final "y".
_ENDINGS = ("", "", "e", "y")

_DIGRAPHS = {
    "ph": "F", "th": "TH", "sh": "SH", "ch": "CH", "ck": "K", "ng": "NG",
    "qu": "K W", "ee": "IY", "ea": "IY", "oo": "UW", "ai": "EY", "ou": "AW",
    "oa": "OW",
}  # fmt: skip
_SHORT_VOWELS = {"a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH"}
_LONG_VOWELS = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW"}
_CONSONANTS = {
    "b": "B", "d": "D", "f": "F", "h": "HH", "j": "JH", "k": "K", "l": "L",
    "m": "M", "n": "N", "p": "P", "r": "R", "s": "S", "t": "T", "v": "V",
    "q": "K", "w": "W", "x": "K S", "z": "Z",
}  # fmt: skip
_VOWELS = frozenset("aeiouy")
# c and g are soft before these letters.
_SOFTENING = frozenset("eiy")


def _is_consonant(letter: str) -> bool:
    return letter.isalpha() and letter not in _VOWELS


def _has_magic_e(word: str, i: int) -> bool:
    """Whether the single vowel at ``i`` is lengthened by a silent final e."""
    return i + 3 == len(word) and _is_consonant(word[i + 1]) and word[-1] == "e"


def _letter_to_phonemes(word: str, i: int) -> str:
    """Phonemes of the single letter ``word[i]``, given its neighbours."""
    letter, following = word[i], word[i + 1 : i + 2]
    if letter == "c":
        return "S" if following in _SOFTENING else "K"
    if letter == "g":
        return "JH" if following in _SOFTENING else "G"
    if letter == "y":
        return "Y" if i == 0 or following in _VOWELS else "IY"
    if letter == "e" and following == "":
        # Final e: long when it is the only vowel ("be", "the"), silent after
        # a consonant when another vowel is sounded.
        if not _VOWELS & set(word[:i]):
            return "IY"
        if _is_consonant(word[i - 1]):
            return ""
    if letter in _SHORT_VOWELS:
        table = _LONG_VOWELS if _has_magic_e(word, i) else _SHORT_VOWELS
        return table[letter]
    return _CONSONANTS[letter]


def _to_phonemes(word: str) -> str:
    """Pronounce a lower-case pseudo-word with the rules of make_transliteration."""
    phonemes, i = [], 0
    while i < len(word):
        pair = word[i : i + 2]
        if pair in _DIGRAPHS:
            phonemes.append(_DIGRAPHS[pair])
            i += 2
            continue
        # A doubled consonant is said once: skip the first of the pair.
        if _is_consonant(word[i]) and pair == word[i] * 2:
            i += 1
            continue
        phonemes.append(_letter_to_phonemes(word, i))
        i += 1
    return " ".join(p for p in phonemes if p)


def _make_word(rng) -> str:
    n_syllables = rng.randint(1, 4)
    # Only the first syllable may start with a vowel, which avoids vowel
    # clusters that no rule covers.
    parts = ["" if rng.rand() < 0.2 else _ONSETS[rng.randint(len(_ONSETS))]]
    for k in range(n_syllables):
        if k:
            parts.append(_ONSETS[rng.randint(len(_ONSETS))])
        parts.append(_NUCLEI[rng.randint(len(_NUCLEI))])
        parts.append(_CODAS[rng.randint(len(_CODAS))])
    word = "".join(parts)
    if _is_consonant(word[-1]):
        word += _ENDINGS[rng.randint(len(_ENDINGS))]
    return word


def make_transliteration(
    n_samples: int = 1000, *, random_state=None
) -> tuple[list[str], list[str]]:
    """Pseudo-words and their pronunciation, a grapheme-to-phoneme task.

    Each word is one to three syllables (optional onset, a vowel or vowel
    digraph, an optional coda), sometimes followed by a final ``e`` or
    ``y``. Its pronunciation is a space-separated string of ARPAbet-like
    phonemes given by deterministic, English-like rules. Several rules look
    at the neighbouring letters, so a model must learn context rather than a
    letter-by-letter map. Read left to right:

    - digraphs are one sound: ``ph`` F, ``th`` TH, ``sh`` SH, ``ch`` CH,
      ``ck`` K, ``ng`` NG, ``qu`` K W, ``ee``/``ea`` IY, ``oo`` UW,
      ``ai`` EY, ``ou`` AW, ``oa`` OW;
    - a doubled consonant is said once (``ll`` L, ``tt`` T);
    - ``c`` is S before ``e``, ``i`` or ``y`` and K elsewhere; ``g`` is JH
      before them and G elsewhere;
    - ``y`` is Y at the start of a word or before a vowel, IY elsewhere;
    - a final ``e`` after a consonant is silent, and makes a single vowel
      one consonant before it long ("magic e"): ``a`` EY, ``e`` IY,
      ``i`` AY, ``o`` OW, ``u`` UW; a final ``e`` that is the word's only
      vowel is IY;
    - other vowels are short: ``a`` AE, ``e`` EH, ``i`` IH, ``o`` AA,
      ``u`` AH; ``x`` is K S and ``h`` HH; other consonants are themselves.

    So ``"cape"`` is ``"K EY P"``, ``"cap"`` is ``"K AE P"``, ``"cell"`` is
    ``"S EH L"`` and ``"phase"`` is ``"F EY S"``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of pairs to generate. Words may repeat.
    random_state : int, RandomState instance or None, default=None
        Seed for the words. Pass an int for reproducible output.

    Returns
    -------
    X : list of str
        The lower-case pseudo-words.
    y : list of str
        Their phonemes, separated by single spaces.

    See Also
    --------
    make_dates : Human-written dates to ISO dates.
    make_reversal : A task with no structure but its alignment.

    Examples
    --------
    >>> from sk_attention.datasets import make_transliteration
    >>> X, y = make_transliteration(3, random_state=0)
    >>> for word, phonemes in zip(X, y):
    ...     print(f"{word!r} -> {phonemes!r}")
    'bo' -> 'B AA'
    'zudblore' -> 'Z AH D B L OW R'
    'quounghus' -> 'K W AW NG HH AH S'
    """
    _check_n_samples(n_samples)
    rng = check_random_state(random_state)
    X = [_make_word(rng) for _ in range(n_samples)]
    return X, [_to_phonemes(word) for word in X]


# ---------------------------------------------------------------------------
# Docstring sentences

#: The scikit-learn modules :func:`load_docstring_sentences` reads by default.
DOCSTRING_MODULES = (
    "cluster", "decomposition", "ensemble", "feature_extraction",
    "feature_selection", "linear_model", "metrics", "model_selection",
    "neighbors", "preprocessing", "svm", "tree",
)  # fmt: skip


def load_docstring_sentences(modules=DOCSTRING_MODULES):
    """Sentences of scikit-learn's docstrings, labelled by their module.

    A real text classification task that needs no download: every sentence
    of the prose of the docstrings (summary, description, parameters and
    attributes; not the examples, notes or references) of each public name
    of ``sklearn.<module>``, lower-cased, with words of two letters or more,
    and at least four of them. The label is the module ("an estimator of
    ``cluster``"). Sentences of one documented object are alike: split
    with ``groups`` (e.g. :class:`~sklearn.model_selection.GroupShuffleSplit`)
    so that no object is on both sides. The data follow the installed
    scikit-learn version.

    Parameters
    ----------
    modules : sequence of str, default=DOCSTRING_MODULES
        Submodules of ``sklearn`` to read, e.g. ``("cluster", "svm")``.

    Returns
    -------
    X : list of str
        The sentences.
    y : ndarray of str
        The module of each sentence.
    groups : ndarray of str
        The documented object of each sentence, ``"module.Name"``.

    Examples
    --------
    >>> from sk_attention.datasets import load_docstring_sentences
    >>> X, y, groups = load_docstring_sentences(["cluster"])
    >>> X[0]
    'perform dbscan clustering from vector array or distance matrix'
    >>> str(y[0]), str(groups[0])
    ('cluster', 'cluster.DBSCAN')
    """
    sentences, labels, groups = [], [], []
    for module_name in modules:
        module = importlib.import_module(f"sklearn.{module_name}")
        for name in getattr(module, "__all__", []):
            try:
                doc = inspect.getdoc(getattr(module, name)) or ""
            except ImportError:  # experimental names need an explicit enable
                continue
            # Prose only: stop at the sections that list names and code.
            doc = re.split(r"\n(?:See Also|Examples|References|Notes)\n-+", doc)[0]
            text = " ".join(doc.replace("-", " ").split())
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                words = re.findall(r"[A-Za-z][A-Za-z_]+", sentence)
                if len(words) >= 4:
                    sentences.append(" ".join(words).lower())
                    labels.append(module_name)
                    groups.append(f"{module_name}.{name}")
    return sentences, np.array(labels), np.array(groups)
