"""How :class:`AttentionSeq2Seq` reads text: its encoding of the data.

The encoding is the fitted state that describes the training pairs: the
tokenizers, the source and target vocabularies, whether ``y`` held strings,
the output bound and the Transformer's position bound. It is learned from
the pairs (:func:`learn_encoding`), applied to new pairs (:func:`pair_ids`)
and written to and read from a model file (:func:`encoding_to_config`,
:func:`encoding_from_config`). Every function is pure.
"""

from .._subwords import (
    SUBWORD_KINDS,
    is_subword_tokenizer,
    subword_from_json,
    train_subword_tokenizer,
)
from .._text import Vocabulary, make_tokenizer, tokenize_items

__all__ = [
    "encoding_from_config",
    "encoding_to_config",
    "learn_encoding",
    "make_tokenizers",
    "pair_ids",
    "tokenize_pairs",
]


def make_tokenizers(
    source_tokenizer,
    target_tokenizer,
    target_is_text,
    X_items=None,
    y_items=None,
    subword_vocabulary_size=None,
):
    """The fitted tokenizers, from the tokenizer parameters.

    ``"bpe"`` and ``"unigram"`` are trained on ``X_items`` or ``y_items``,
    which must then hold strings; a given ``tokenizers.Tokenizer`` is
    copied, so that changing it later changes no fitted model.
    """
    source = _make_tokenizer(
        source_tokenizer, "source_tokenizer", X_items, "X", subword_vocabulary_size
    )
    target = _make_tokenizer(
        target_tokenizer, "target_tokenizer", y_items, "y", subword_vocabulary_size
    )
    return source, _check_joins(target, target_is_text)


def _make_tokenizer(spec, argument, items, data_name, vocabulary_size):
    if isinstance(spec, str) and spec in SUBWORD_KINDS:
        if items is None or not isinstance(items[0], str):
            raise ValueError(
                f"{argument}={spec!r} learns its subwords from strings, but "
                f"{data_name} holds token lists; give {data_name} as strings, "
                f"or pass {argument}='char' (it is ignored for token lists)."
            )
        return train_subword_tokenizer(spec, items, vocabulary_size, argument)
    if is_subword_tokenizer(spec):
        return subword_from_json(spec.to_str(), "tokenizers", argument)
    return make_tokenizer(spec, argument)


def _check_joins(target, target_is_text):
    if target_is_text and target.detokenize is None:
        raise ValueError(
            "target_tokenizer must be able to join tokens back into strings "
            "when y holds strings: pass 'char', 'word', 'bpe', 'unigram', a "
            "(tokenize, detokenize) pair or a tokenizers.Tokenizer with a "
            "decoder, or give y as token lists."
        )
    return target


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
    """The JSON-able part of the encoding.

    A subword tokenizer is stored as its own JSON; the others are settings,
    made again from the tokenizer parameters.
    """
    return {
        **{
            f"{side}_subwords": _subwords_to_config(encoding[f"{side}_tokenizer_"])
            for side in ("source", "target")
        },
        "source_vocab": encoding["source_vocab_"].tokens,
        "target_vocab": encoding["target_vocab_"].tokens,
        "target_is_text": encoding["target_is_text_"],
        "max_output_length": encoding["max_output_length_"],
        "max_positions": encoding["_max_positions"],
    }


def encoding_from_config(config, source_tokenizer, target_tokenizer):
    """Inverse of :func:`encoding_to_config`; ``config`` is a ``ModelConfig``."""
    target_is_text = config.get("target_is_text", bool)
    source = _tokenizer_from_config(config, "source", source_tokenizer)
    target = _tokenizer_from_config(config, "target", target_tokenizer)
    return {
        "source_tokenizer_": source,
        "target_tokenizer_": _check_joins(target, target_is_text),
        "source_vocab_": _vocabulary(config, "source_vocab"),
        "target_vocab_": _vocabulary(config, "target_vocab"),
        "target_is_text_": target_is_text,
        "max_output_length_": config.get("max_output_length", int),
        "_max_positions": config.get("max_positions", int),
    }


def _subwords_to_config(tokenizer):
    if tokenizer.subword is None:
        return None
    return {"name": tokenizer.name, "json": tokenizer.subword.to_str()}


def _tokenizer_from_config(config, side, spec):
    """The fitted tokenizer of one side: saved subwords, or the parameter."""
    key = f"{side}_subwords"
    # Files of formats before 1.2 predate subword tokenizers.
    older = config.format_version in ("1.0", "1.1")
    saved = config.get(key, (dict, None), **({"default": None} if older else {}))
    if saved is None:
        if isinstance(spec, str) and spec in SUBWORD_KINDS:
            raise ValueError(
                f"{config.path!r} was saved with {side}_tokenizer={spec!r} but "
                f"holds no {key}; the file is incomplete."
            )
        return make_tokenizer(spec, f"{side}_tokenizer")
    name = config.get("name", str, section=key)
    text = config.get("json", str, section=key)
    return subword_from_json(text, name, f"{config.path!r}'s {key}")


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
