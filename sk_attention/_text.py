"""Text input: validation, tokenizers and vocabularies.

Strings become token lists through a tokenizer, token lists become integer
ids through a :class:`Vocabulary`, and the way back (ids -> tokens ->
strings) goes through the same two objects.
"""

import re
from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIAL_TOKENS",
    "UNK",
    "Tokenizer",
    "Vocabulary",
    "check_pairs",
    "check_text_sequences",
    "decode_output",
    "make_tokenizer",
    "tokenize_items",
]

PAD, BOS, EOS, UNK = 0, 1, 2, 3
#: Reserved tokens, at the ids above in every vocabulary.
SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>")


@dataclass(frozen=True)
class Tokenizer:
    """Splits a string into tokens and, where it can, joins them back.

    Parameters
    ----------
    name : str
        ``"char"``, ``"word"``, ``"custom"``, or for subword tokenizers
        ``"bpe"``, ``"unigram"`` or ``"tokenizers"`` (one given ready-made).
    tokenize : callable
        ``str -> list of str``.
    detokenize : callable or None
        ``list of str -> str``; None when the tokenizer cannot join.
    subword : tokenizers.Tokenizer or None, default=None
        The Hugging Face tokenizer that splits and joins, whose JSON a model
        file keeps.
    """

    name: str
    tokenize: Callable
    detokenize: Optional[Callable]
    subword: Optional[object] = None


def _split_chars(text):
    return list(text)


def _join_chars(tokens):
    return "".join(tokens)


def _split_words(text):
    return text.split()


def _join_words(tokens):
    return " ".join(tokens)


_WORD_OR_PUNCTUATION = re.compile(r"\w+|[^\w\s]+")


def _split_lower_words(text):
    return _WORD_OR_PUNCTUATION.findall(text.lower())


_NAMED_TOKENIZERS = {
    "char": Tokenizer("char", _split_chars, _join_chars),
    "word": Tokenizer("word", _split_words, _join_words),
    # Lowercased runs of word characters and of punctuation: the tokens of
    # uncased word vectors (GloVe 6B), much as TfidfVectorizer reads text.
    "wordpunct": Tokenizer("wordpunct", _split_lower_words, _join_words),
}


def make_tokenizer(spec, argument):
    """Build a :class:`Tokenizer` from what the user passed.

    Parameters
    ----------
    spec : {"char", "word", "wordpunct"}, callable or (callable, callable)
        A name (``"wordpunct"`` lowercases, then splits runs of word
        characters from runs of punctuation); a callable that splits (such
        a tokenizer cannot join, so it cannot produce string predictions);
        or a ``(tokenize, detokenize)`` pair.
    argument : str
        The parameter's name, for error messages.

    Returns
    -------
    Tokenizer

    Examples
    --------
    >>> make_tokenizer("word", "source_tokenizer").tokenize("3rd of march")
    ['3rd', 'of', 'march']
    >>> make_tokenizer("wordpunct", "tokenizer").tokenize("It's a must-see!")
    ['it', "'", 's', 'a', 'must', '-', 'see', '!']
    """
    if isinstance(spec, str):
        if spec not in _NAMED_TOKENIZERS:
            raise ValueError(
                f"{argument} must be 'char', 'word', 'wordpunct', a callable or a "
                f"(tokenize, detokenize) pair, got {spec!r}."
            )
        return _NAMED_TOKENIZERS[spec]
    if callable(spec):
        return Tokenizer("custom", spec, None)
    if (
        isinstance(spec, tuple)
        and len(spec) == 2
        and all(callable(function) for function in spec)
    ):
        return Tokenizer("custom", spec[0], spec[1])
    raise TypeError(
        f"{argument} must be 'char', 'word', 'wordpunct', a callable or a (tokenize, "
        f"detokenize) pair of callables, got {type(spec).__name__}."
    )


def check_text_sequences(X, argument):
    """Validate a collection of strings or of token lists.

    Parameters
    ----------
    X : sequence of str or sequence of list of str
        A list, tuple, 1-D array or pandas Series. Never modified.
    argument : str
        The parameter's name, for error messages.

    Returns
    -------
    items : list
        The strings, or the token lists as lists of str.
    is_text : bool
        True if the items are strings.

    Raises
    ------
    TypeError
        If ``X`` is a single string, an unordered collection (a set or a
        dict) or not a collection, or an item is missing (None, NaN) or is
        neither a string nor a list of strings (the message names the index).
    ValueError
        If ``X`` is empty or not one-dimensional.

    Examples
    --------
    >>> check_text_sequences(["ab", "c"], "X")
    (['ab', 'c'], True)
    >>> check_text_sequences([["a", "b"]], "X")
    ([['a', 'b']], False)
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{argument} must be a collection of sequences, got a single "
            f"{type(X).__name__}; wrap it in a list: [{X!r}]."
        )
    if isinstance(X, (Set, Mapping)):
        raise TypeError(
            f"{argument} must be an ordered collection (a list, tuple, array or "
            f"pandas Series), got a {type(X).__name__}: its order, and so the "
            "match between samples and outputs, would be arbitrary."
        )
    if hasattr(X, "to_numpy") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(
                f"{argument} must be one-dimensional (one sequence per sample); "
                f"got a table with {X.shape[1]} columns."
            )
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(
            f"{argument} must be one-dimensional (one sequence per sample); got "
            f"an array of shape {X.shape}."
        )
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            f"{argument} must be a collection of strings or token lists, got "
            f"{type(X).__name__}."
        ) from None
    if not items:
        raise ValueError(f"{argument} is empty; at least one sequence is required.")
    is_text = isinstance(items[0], str)
    checked = [
        _check_item(item, index, argument, is_text) for index, item in enumerate(items)
    ]
    return checked, is_text


def check_pairs(X, y):
    """Validated items of ``X`` and ``y``, and whether ``y`` holds strings.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` hold different numbers of sequences.
    """
    X_items, _ = check_text_sequences(X, "X")
    y_items, target_is_text = check_text_sequences(y, "y")
    if len(X_items) != len(y_items):
        raise ValueError(
            f"X and y must hold the same number of sequences, got "
            f"{len(X_items)} and {len(y_items)}."
        )
    return X_items, y_items, target_is_text


def _check_item(item, index, argument, is_text):
    if item is None or (isinstance(item, float) and np.isnan(item)):
        raise TypeError(
            f"{argument}[{index}] is a {type(item).__name__} ({item!r}), a missing "
            "value; every sample needs a string or a token list. Drop or fill "
            "missing values first."
        )
    if is_text:
        if not isinstance(item, str):
            raise TypeError(
                f"{argument}[{index}] is a {type(item).__name__}; expected a "
                f"string like {argument}[0]."
            )
        return item
    if isinstance(item, (list, tuple, np.ndarray)):
        tokens = list(item)
        for position, token in enumerate(tokens):
            if not isinstance(token, str):
                raise TypeError(
                    f"{argument}[{index}][{position}] is a {type(token).__name__}; "
                    "token lists must hold strings."
                )
        return tokens
    expected = (
        "a string or a list of string tokens"
        if index == 0
        else (f"a token list like {argument}[0]")
    )
    raise TypeError(
        f"{argument}[{index}] is a {type(item).__name__} ({item!r:.40}); "
        f"expected {expected}."
    )


class Vocabulary:
    """A bidirectional map between tokens and integer ids.

    Ids 0 to 3 are the padding, start, end and unknown tokens; learned
    tokens follow, most frequent first (ties broken by first appearance,
    so a vocabulary is a deterministic function of its training data).

    Parameters
    ----------
    tokens : list of str
        The learned tokens, in id order, without the special tokens.

    Examples
    --------
    >>> vocab = Vocabulary.build([["a", "b", "a"], ["c"]])
    >>> vocab.tokens
    ['a', 'b', 'c']
    >>> vocab.encode(["a", "z"])
    array([4, 3])
    >>> vocab.decode([4, 6])
    ['a', 'c']
    """

    def __init__(self, tokens):
        self.tokens = list(tokens)
        # Special tokens are never looked up by name, so a user token that
        # happens to read "<pad>" stays an ordinary token.
        self._ids = {
            token: index for index, token in enumerate(self.tokens, len(SPECIAL_TOKENS))
        }

    @property
    def itos(self):
        """All tokens in id order, the special ones first."""
        return [*SPECIAL_TOKENS, *self.tokens]

    @classmethod
    def build(cls, sequences, min_frequency=1, max_size=None):
        """Learn a vocabulary from token lists.

        Parameters
        ----------
        sequences : iterable of list of str
        min_frequency : int, default=1
            Tokens seen fewer times map to the unknown token.
        max_size : int, default=None
            Keep at most this many learned tokens (the most frequent).

        Returns
        -------
        Vocabulary
        """
        counts = Counter(token for sequence in sequences for token in sequence)
        kept = [
            token for token, count in counts.most_common() if count >= min_frequency
        ]
        return cls(kept[:max_size] if max_size is not None else kept)

    def __len__(self):
        return len(SPECIAL_TOKENS) + len(self.tokens)

    def encode(self, tokens):
        """Token ids, unseen tokens mapped to the unknown id."""
        return np.fromiter(
            (self._ids.get(token, UNK) for token in tokens),
            dtype=np.int64,
            count=len(tokens),
        )

    def decode(self, ids):
        """Tokens for ids (special ids included as their names)."""
        itos = self.itos
        return [itos[index] for index in ids]


def decode_output(ids, vocabulary, tokenizer, as_text):
    """Decoded ids as an output in the form ``y`` had in ``fit``.

    Parameters
    ----------
    ids : list of int
        Without the end token.
    vocabulary : Vocabulary
    tokenizer : Tokenizer
        Joins the tokens when ``as_text``.
    as_text : bool
        Whether ``y`` held strings (else token lists).

    Returns
    -------
    str or list of str
    """
    tokens = vocabulary.decode(ids)
    return tokenizer.detokenize(tokens) if as_text else tokens


def tokenize_items(items, tokenizer, argument, offset=0, require_tokens=False):
    """Token lists for validated items; strings are split by ``tokenizer``.

    Parameters
    ----------
    items : list of str or list of list of str
        What :func:`check_text_sequences` returned.
    tokenizer : Tokenizer
    argument : str
        The parameter's name, for error messages.
    offset : int, default=0
        The index of ``items[0]`` in the user's input, so that errors about
        a chunk name the right sample.
    require_tokens : bool, default=False
        Refuse an item without tokens, naming it.

    Returns
    -------
    list of list of str

    Examples
    --------
    >>> tokenize_items(["ab c"], make_tokenizer("word", "X"), "X")
    [['ab', 'c']]
    """
    if items and isinstance(items[0], str):
        token_lists = []
        for index, text in enumerate(items, offset):
            tokens = tokenizer.tokenize(text)
            if not isinstance(tokens, (list, tuple)) or not all(
                isinstance(token, str) for token in tokens
            ):
                raise TypeError(
                    f"The tokenizer returned {type(tokens).__name__} for "
                    f"{argument}[{index}]; it must return a list of strings."
                )
            token_lists.append(list(tokens))
        items = token_lists
    if require_tokens:
        for index, tokens in enumerate(items, offset):
            if not tokens:
                raise ValueError(
                    f"{argument}[{index}] has no tokens; every source sequence "
                    "needs at least one."
                )
    return items
