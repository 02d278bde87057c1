"""Subword tokenizers: Hugging Face ``tokenizers``, trained or given.

A subword tokenizer is learned from the training strings (byte-pair
encoding or a unigram language model) or given ready-made as a
``tokenizers.Tokenizer``; either way it becomes a :class:`~._text.Tokenizer`
whose ``subword`` field keeps the ``tokenizers.Tokenizer``, which a model
file stores as the tokenizer's own JSON (``to_str``), never pickled.

The trained ones split at the level of bytes (``ByteLevel`` pre-tokenizer
and decoder, no normalizer), so every string has a spelling and joining the
tokens back gives the original text exactly: spaces, tabs and any Unicode.
``tokenizers`` is an optional dependency (the ``subword`` extra).
"""

from functools import partial

from ._text import Tokenizer

__all__ = [
    "SUBWORD_KINDS",
    "is_subword_tokenizer",
    "subword_from_json",
    "subword_tokenizer",
    "train_subword_tokenizer",
]

#: The names of the subword tokenizers trained in ``fit``.
SUBWORD_KINDS = ("bpe", "unigram")

_UNKNOWN = "<unk>"  # the unigram model needs one, though bytes cover all text


def _require_tokenizers(argument):
    try:
        import tokenizers
    except ImportError:
        raise ImportError(
            f"{argument} needs the Hugging Face tokenizers package: "
            "pip install 'sk-attention[subword]'."
        ) from None
    return tokenizers


def is_subword_tokenizer(value):
    """Whether ``value`` is a ``tokenizers.Tokenizer`` (never imports it)."""
    return type(value).__module__.split(".")[0] == "tokenizers" and hasattr(
        value, "to_str"
    )


def train_subword_tokenizer(kind, texts, vocabulary_size, argument):
    """A byte-level subword tokenizer learned from ``texts``.

    Parameters
    ----------
    kind : {"bpe", "unigram"}
    texts : list of str
    vocabulary_size : int
        The most subwords, the 256 bytes included.
    argument : str
        The parameter's name, for error messages.

    Returns
    -------
    Tokenizer
    """
    tokenizers = _require_tokenizers(f"{argument}={kind!r}")
    alphabet = tokenizers.pre_tokenizers.ByteLevel.alphabet()
    if kind == "bpe":
        model = tokenizers.models.BPE()
        trainer = tokenizers.trainers.BpeTrainer(
            vocab_size=vocabulary_size, initial_alphabet=alphabet,
            show_progress=False,
        )
    else:
        model = tokenizers.models.Unigram()
        trainer = tokenizers.trainers.UnigramTrainer(
            vocab_size=vocabulary_size, initial_alphabet=alphabet,
            unk_token=_UNKNOWN, special_tokens=[_UNKNOWN], show_progress=False,
        )
    subword = tokenizers.Tokenizer(model)
    # No prefix space and no normalizer: either would change the text.
    subword.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    subword.decoder = tokenizers.decoders.ByteLevel()
    subword.train_from_iterator(texts, trainer=trainer)
    return subword_tokenizer(subword, kind)


def subword_tokenizer(subword, name="tokenizers"):
    """A :class:`Tokenizer` that splits and joins with a ``tokenizers.Tokenizer``.

    It joins tokens back with the tokenizer's decoder, and cannot join when
    the tokenizer has none.
    """
    detokenize = None if subword.decoder is None else partial(_join, subword)
    return Tokenizer(name, partial(_split, subword), detokenize, subword)


def subword_from_json(text, name, argument):
    """Inverse of ``Tokenizer.to_str``: the :class:`Tokenizer` of a saved one."""
    tokenizers = _require_tokenizers(argument)
    try:
        subword = tokenizers.Tokenizer.from_str(text)
    except Exception as error:  # tokenizers raises its own exception type
        raise ValueError(f"{argument} is not a valid tokenizer: {error}") from None
    return subword_tokenizer(subword, name)


def _split(subword, text):
    return subword.encode(text, add_special_tokens=False).tokens


def _join(subword, tokens):
    return subword.decoder.decode(tokens)
