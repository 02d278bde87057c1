"""
Classifying short texts with attention pooling
==============================================

The texts are sentences of scikit-learn's own docstrings ("Compute the F1
score, also known as balanced F-score or F-measure"), labelled by the
module they document: ``cluster``, ``linear_model``, ``metrics`` or
``preprocessing``. They ship with scikit-learn, so nothing is downloaded
(:func:`sk_attention.datasets.load_docstring_sentences`). Sentences of the
same function or class are alike, so the split keeps each documented object
on one side.

Strings go straight into the estimators: they are split into words
(``tokenizer="word"``), the words are embedded, a bidirectional GRU reads
them in order (``encoder="gru"``), and attention pools its states
(Yang et al., 2016). Words never seen in ``fit`` map to an unknown token.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from sk_attention import AttentionPooling, AttentionPoolingClassifier
from sk_attention.datasets import load_docstring_sentences
from sk_attention.plotting import plot_pooling_attention

X, y, groups = load_docstring_sentences(
    ["cluster", "linear_model", "metrics", "preprocessing"]
)
train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, groups))
X_train, y_train = [X[i] for i in train], y[train]
X_test, y_test = [X[i] for i in test], y[test]
print(f"{len(X_train)} training and {len(X_test)} test sentences, e.g. "
      f"{X_train[0]!r} ({y_train[0]})")

# %%
# The usual tool: TF-IDF on words and word pairs, then logistic regression.
tfidf = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
    LogisticRegression(max_iter=2000, C=10),
).fit(X_train, y_train)
print(f"TF-IDF + LR: accuracy {tfidf.score(X_test, y_test):.3f}")

# %%
# The attention classifier, with a validation split to stop training when
# it no longer helps.
clf = AttentionPoolingClassifier(
    encoder="gru", validation_fraction=0.1, early_stopping=True,
    n_iter_no_change=3, max_epochs=15, random_state=0,
).fit(X_train, y_train)
print(f"attention pooling, encoder='gru': accuracy {clf.score(X_test, y_test):.3f}")

# %%
# As a transformer, :class:`~sk_attention.AttentionPooling` turns each text
# into a vector for any scikit-learn estimator.
pipe = make_pipeline(
    AttentionPooling(encoder="gru", max_epochs=5, random_state=0),
    LogisticRegression(max_iter=2000),
).fit(X_train, y_train)
print(f"AttentionPooling vectors + LR: accuracy {pipe.score(X_test, y_test):.3f}")

# %%
# The words the classifier attends to in a sentence it has never seen.
sentence = "compute the mean squared error between the true and predicted targets"
ax = plot_pooling_attention(clf, sentence)
ax.set_title(f"predicted module: {clf.predict([sentence])[0]}")
plt.show()
