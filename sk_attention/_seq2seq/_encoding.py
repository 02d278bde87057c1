"""How :class:`AttentionSeq2Seq` reads text: its encoding of the data.

The encoding is the fitted state that describes the training pairs: the
tokenizers, the source and target vocabularies, whether ``y`` held strings,
the output bound and the Transformer's position bound. It is learned from
the pairs (:func:`learn_encoding`), applied to new pairs (:func:`pair_ids`)
and written to and read from a model file (:func:`encoding_to_config`,
:func:`encoding_from_config`). Every function is pure.
"""

from .._text import Vocabulary, check_text_sequences, make_tokenizer, tokenize_items

__all__ = [
    "check_pairs",
    "encoding_from_config",
    "encoding_to_config",
    "learn_encoding",
    "make_tokenizers",
    "pair_ids",
    "tokenize_pairs",
]


def check_pairs(X, y):
    """Validated items of ``X`` and ``y``, and whether ``y`` holds strings."""
    X_items, _ = check_text_sequences(X, "X")
    y_items, target_is_text = check_text_sequences(y, "y")
    if len(X_items) != len(y_items):
        raise ValueError(
            f"X and y must hold the same number of sequences, got "
            f"{len(X_items)} and {len(y_items)}."
        )
    return X_items, y_items, target_is_text


def make_tokenizers(source_tokenizer, target_tokenizer, target_is_text):
    """The fitted tokenizers, from the tokenizer parameters."""
    source = make_tokenizer(source_tokenizer, "source_tokenizer")
    target = make_tokenizer(target_tokenizer, "target_tokenizer")
    if target_is_text and target.detokenize is None:
        raise ValueError(
            "target_tokenizer must be able to join tokens back into strings "
            "when y holds strings: pass 'char', 'word' or a (tokenize, "
            "detokenize) pair, or give y as token lists."
        )
    return source, target


def learn_encoding(
    source_tokens,
    target_tokens,
    tokenizers,
    target_is_text,
    *,
    min_frequency,
    max_vocabulary_size,
    max_output_length,
):
    """The encoding of tokenized training pairs.

    ``max_output_length`` None bounds outputs at twice the longest target
    plus one.
    """
    vocab_options = dict(min_frequency=min_frequency, max_size=max_vocabulary_size)
    longest = max(len(tokens) for tokens in target_tokens)
    bound = max_output_length or 2 * longest + 1
    longest_source = max(len(tokens) for tokens in source_tokens)
    return {
        "source_tokenizer_": tokenizers[0],
        "target_tokenizer_": tokenizers[1],
        "source_vocab_": Vocabulary.build(source_tokens, **vocab_options),
        "target_vocab_": Vocabulary.build(target_tokens, **vocab_options),
        "target_is_text_": target_is_text,
        "max_output_length_": bound,
        # The learned position table of the Transformer has this many rows.
        "_max_positions": max(2 * longest_source, bound),
    }


def tokenize_pairs(X_items, y_items, source_tokenizer, target_tokenizer):
    """Token lists of validated pairs; every source needs a token."""
    source_tokens = tokenize_items(X_items, source_tokenizer, "X", require_tokens=True)
    return source_tokens, tokenize_items(y_items, target_tokenizer, "y")


def pair_ids(source_tokens, target_tokens, encoding):
    """Source and target id arrays of tokenized pairs, under ``encoding``."""
    return (
        [encoding["source_vocab_"].encode(tokens) for tokens in source_tokens],
        [encoding["target_vocab_"].encode(tokens) for tokens in target_tokens],
    )


def encoding_to_config(encoding):
    """The JSON-able part of the encoding (tokenizers are settings)."""
    return {
        "source_vocab": encoding["source_vocab_"].tokens,
        "target_vocab": encoding["target_vocab_"].tokens,
        "target_is_text": encoding["target_is_text_"],
        "max_output_length": encoding["max_output_length_"],
        "max_positions": encoding["_max_positions"],
    }


def encoding_from_config(config, source_tokenizer, target_tokenizer):
    """Inverse of :func:`encoding_to_config`; ``config`` is a ``ModelConfig``."""
    target_is_text = config.get("target_is_text", bool)
    tokenizers = make_tokenizers(source_tokenizer, target_tokenizer, target_is_text)
    return {
        "source_tokenizer_": tokenizers[0],
        "target_tokenizer_": tokenizers[1],
        "source_vocab_": _vocabulary(config, "source_vocab"),
        "target_vocab_": _vocabulary(config, "target_vocab"),
        "target_is_text_": target_is_text,
        "max_output_length_": config.get("max_output_length", int),
        "_max_positions": config.get("max_positions", int),
    }


def _vocabulary(config, key):
    """A saved vocabulary, checked to be a list of token strings."""
    tokens = config.get(key, list)
    if not all(isinstance(token, str) for token in tokens):
        raise ValueError(
            f"{config.path!r} holds a {key} that is not a list of strings."
        )
    try:
        return Vocabulary(tokens)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{config.path!r} holds an invalid {key}: {error}") from None
