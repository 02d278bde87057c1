"""Scores for sequence-to-sequence predictions.

Every metric takes ``y_true`` and ``y_pred`` as sequences of the same length
(lists, tuples, 1-D NumPy arrays or pandas Series). Each item is either a
string, which is split into tokens by ``tokenizer`` where the metric needs
tokens, or a token list (a list or tuple of strings), which is used as it is.
"""

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np
from rapidfuzz.distance import Levenshtein

__all__ = ["bleu", "sequence_accuracy", "token_accuracy", "token_error_rate"]

Item = Union[str, Sequence[str]]
Tokenizer = Union[str, Callable[[str], Sequence[str]]]

_TOKENIZERS = {"char": list, "word": str.split}


def _describe(value) -> str:
    return type(value).__name__


def _is_token_list(item) -> bool:
    return isinstance(item, (list, tuple)) and all(isinstance(t, str) for t in item)


def _check_items(values, name: str) -> list:
    """Return ``values`` as a list of strings or token lists, or raise."""
    # A lone string is iterable, but it is one sequence, not a collection.
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(
            f"{name} must be a list, array or Series of sequences, "
            f"got {_describe(values)}."
        )
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {values.shape}.")
    items = list(values)
    if not items:
        raise ValueError(f"{name} is empty; at least one sequence is needed.")
    for i, item in enumerate(items):
        if not isinstance(item, str) and not _is_token_list(item):
            raise TypeError(
                f"{name}[{i}] must be a str or a list/tuple of str tokens, "
                f"got {_describe(item)}: {item!r}."
            )
    return items


def _check_pair(y_true, y_pred) -> tuple[list, list]:
    true_items = _check_items(y_true, "y_true")
    pred_items = _check_items(y_pred, "y_pred")
    if len(true_items) != len(pred_items):
        raise ValueError(
            "y_true and y_pred must have the same length, got "
            f"{len(true_items)} and {len(pred_items)}."
        )
    return true_items, pred_items


def _resolve_tokenizer(tokenizer: Tokenizer) -> Callable[[str], Sequence[str]]:
    if callable(tokenizer):
        return tokenizer
    if not isinstance(tokenizer, str):
        raise TypeError(
            "tokenizer must be 'char', 'word' or a callable, "
            f"got {_describe(tokenizer)}."
        )
    if tokenizer not in _TOKENIZERS:
        raise ValueError(
            f"tokenizer must be 'char', 'word' or a callable, got {tokenizer!r}."
        )
    return _TOKENIZERS[tokenizer]


def _tokenize(items: list, tokenize: Callable) -> list[list[str]]:
    """Split strings into token lists; token lists pass through untouched."""
    token_lists = []
    for item in items:
        tokens = list(tokenize(item)) if isinstance(item, str) else list(item)
        if not all(isinstance(token, str) for token in tokens):
            raise TypeError(
                f"tokenizer must return str tokens, got {tokens!r} for {item!r}."
            )
        token_lists.append(tokens)
    return token_lists


def sequence_accuracy(y_true: Sequence[Item], y_pred: Sequence[Item]) -> float:
    """Fraction of predicted sequences that equal their reference exactly.

    Parameters
    ----------
    y_true : sequence of str or of token lists
        Reference sequences.
    y_pred : sequence of str or of token lists
        Predicted sequences, in the same form as ``y_true``.

    Returns
    -------
    float
        Exact-match accuracy in [0, 1].

    Raises
    ------
    TypeError
        If a string is compared with a token list: the two forms cannot match
        and mixing them is almost always a mistake.

    See Also
    --------
    token_accuracy : Credit for the tokens in the right places.
    sk_attention.AttentionSeq2Seq.score : This metric on a fitted model's predictions.

    Examples
    --------
    >>> from sk_attention.metrics import sequence_accuracy
    >>> sequence_accuracy(["2021-03-03", "1999-12-31"], ["2021-03-03", "1999-12-30"])
    0.5
    >>> sequence_accuracy([["F", "IY"]], [("F", "IY")])
    1.0
    """
    true_items, pred_items = _check_pair(y_true, y_pred)
    matches = 0
    for i, (true, pred) in enumerate(zip(true_items, pred_items)):
        if isinstance(true, str) != isinstance(pred, str):
            raise TypeError(
                f"y_true[{i}] is a {_describe(true)} but y_pred[{i}] is a "
                f"{_describe(pred)}; compare strings with strings and token "
                "lists with token lists."
            )
        matches += tuple(true) == tuple(pred)
    return matches / len(true_items)


def token_accuracy(
    y_true: Sequence[Item], y_pred: Sequence[Item], *, tokenizer: Tokenizer = "char"
) -> float:
    """Position-wise token accuracy, normalised by the longer sequence.

    For each pair, the tokens are compared position by position and the
    matches counted; the count is bounded by the length of the longer of the
    two sequences. The score is the total of the matches divided by the total
    of those longer lengths::

        sum_k #{i : true_k[i] == pred_k[i]} / sum_k max(len(true_k), len(pred_k))

    Normalising by the longer sequence penalises both missing and extra
    tokens, so a prediction scores 1 only if it equals its reference. A token
    shifted by one place counts as wrong everywhere after the shift; use
    :func:`token_error_rate` to score insertions and deletions fairly. If
    every sequence is empty the score is 1.

    Parameters
    ----------
    y_true : sequence of str or of token lists
        Reference sequences.
    y_pred : sequence of str or of token lists
        Predicted sequences.
    tokenizer : {"char", "word"} or callable, default="char"
        How strings are split into tokens: ``"char"`` into characters,
        ``"word"`` at whitespace, or a callable mapping a string to a list of
        str tokens. Token lists are not tokenised again.

    Returns
    -------
    float
        Token accuracy in [0, 1].

    See Also
    --------
    sequence_accuracy : Whole sequences, all or nothing.
    token_error_rate : Edit distance, which forgives shifted tokens.

    Examples
    --------
    >>> from sk_attention.metrics import token_accuracy
    >>> token_accuracy(["abcd"], ["abxd"])
    0.75
    >>> token_accuracy(["abcd"], ["ab"])  # two of the four positions match
    0.5
    >>> token_accuracy(["the cat sat"], ["the dog sat down"], tokenizer="word")
    0.5
    """
    true_items, pred_items = _check_pair(y_true, y_pred)
    tokenize = _resolve_tokenizer(tokenizer)
    true_tokens = _tokenize(true_items, tokenize)
    pred_tokens = _tokenize(pred_items, tokenize)
    matches = positions = 0
    for true, pred in zip(true_tokens, pred_tokens):
        matches += sum(t == p for t, p in zip(true, pred))
        positions += max(len(true), len(pred))
    return matches / positions if positions else 1.0


def token_error_rate(
    y_true: Sequence[Item], y_pred: Sequence[Item], *, tokenizer: Tokenizer = "word"
) -> float:
    """Edit distance between token sequences per reference token.

    The total Levenshtein distance (insertions, deletions and substitutions,
    each costing 1) between each reference and its prediction, divided by
    the total number of reference tokens. With ``tokenizer="word"`` this is
    the word error rate (WER), with ``"char"`` the character error rate
    (CER), and with phoneme token lists the phoneme error rate (PER). Lower
    is better; it is 0 for perfect predictions and can exceed 1 when the
    predictions are longer than the references.

    Parameters
    ----------
    y_true : sequence of str or of token lists
        Reference sequences. They must hold at least one token in total.
    y_pred : sequence of str or of token lists
        Predicted sequences.
    tokenizer : {"word", "char"} or callable, default="word"
        How strings are split into tokens: ``"word"`` at whitespace,
        ``"char"`` into characters, or a callable mapping a string to a list
        of str tokens. Token lists are not tokenised again.

    Returns
    -------
    float
        The error rate, >= 0.

    Raises
    ------
    ValueError
        If ``y_true`` holds no tokens at all, as the rate is then undefined.

    See Also
    --------
    token_accuracy : Position-by-position agreement instead of edits.
    bleu : n-gram overlap, for translations with many right answers.

    Examples
    --------
    >>> from sk_attention.metrics import token_error_rate
    >>> token_error_rate(["the cat sat"], ["the cat sat down"])  # 1 insertion
    0.333...
    >>> token_error_rate(["kitten"], ["sitting"], tokenizer="char")  # 3 edits
    0.5
    >>> token_error_rate([["F", "IY", "N", "IH", "K", "S"]],
    ...                  [["F", "IY", "N", "IY", "K", "S"]])  # PER
    0.166...
    """
    true_items, pred_items = _check_pair(y_true, y_pred)
    tokenize = _resolve_tokenizer(tokenizer)
    true_tokens = _tokenize(true_items, tokenize)
    pred_tokens = _tokenize(pred_items, tokenize)
    n_reference = sum(len(tokens) for tokens in true_tokens)
    if n_reference == 0:
        raise ValueError(
            "y_true holds no tokens, so the error rate per reference token "
            "is undefined."
        )
    edits = sum(map(Levenshtein.distance, true_tokens, pred_tokens))
    return edits / n_reference


def _as_text(item: Item) -> str:
    return item if isinstance(item, str) else " ".join(item)


def bleu(y_true: Sequence[Item], y_pred: Sequence[Item]) -> float:
    """Corpus BLEU of the predictions against one reference each.

    Computed with sacrebleu (``pip install "sk-attention[bleu]"``). Strings
    are tokenised by sacrebleu's standard ``13a`` tokenizer; when every item
    of both arguments is a token list, the tokens are joined with spaces and
    not tokenised again. The effective n-gram order is used, so a corpus of
    sequences shorter than four tokens is not scored 0 for lacking 4-grams.

    Parameters
    ----------
    y_true : sequence of str or of token lists
        Reference sequences, one per prediction.
    y_pred : sequence of str or of token lists
        Predicted sequences.

    Returns
    -------
    float
        BLEU on sacrebleu's 0-100 scale (higher is better).

    Raises
    ------
    ImportError
        If sacrebleu is not installed.

    See Also
    --------
    token_error_rate : Edit distance per reference token.
    sequence_accuracy : Exact matches.

    Examples
    --------
    >>> from sk_attention.metrics import bleu
    >>> bleu(["the cat sat on the mat"], ["the cat sat on the mat"])
    100.0
    >>> round(bleu(["the cat sat on the mat"], ["the cat sat on a mat"]), 1)
    53.7
    """
    true_items, pred_items = _check_pair(y_true, y_pred)
    try:
        from sacrebleu.metrics import BLEU
    except ImportError as exc:
        raise ImportError(
            'bleu needs sacrebleu; install it with: pip install "sk-attention[bleu]"'
        ) from exc
    pretokenized = all(not isinstance(item, str) for item in true_items + pred_items)
    scorer = BLEU(tokenize="none" if pretokenized else "13a", effective_order=True)
    references = [_as_text(item) for item in true_items]
    hypotheses = [_as_text(item) for item in pred_items]
    return float(scorer.corpus_score(hypotheses, [references]).score)
