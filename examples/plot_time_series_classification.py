"""
Classifying multivariate time series read in aeon's layout
==========================================================

Japanese Vowels (a UEA archive set shipped inside the ``aeon`` package, so
nothing is downloaded): nine speakers each utter the vowels "a" and "e";
each recording is a series of 12 LPC cepstrum coefficients over 7 to 29
frames, and the task is to tell the speaker. The standard split has 270
training and 370 test series.

aeon and sktime hold series as ``(n_channels, n_timepoints)``, the
transpose of the ``(n_steps, n_features)`` this library uses by default.
``input_layout="channels_first"`` reads their layout as it is, in ``fit``
and in every later call. A sequence has order, so the steps go through an
encoder before the pooling: ``encoder="fcn"`` (the fully convolutional
network of the time-series literature, trained with its recipe) is the one
recommended for time series; it averages its states over time, so its
attention weights are uniform. ``encoder="conv"`` (residual, dilated 1-D
convolutions) pools with learned attention, which shows where it looks.
"""

# %%
# Load the standard split; the series vary in length, so aeon returns lists
# of ``(12, n_timepoints_i)`` arrays.
import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_japanese_vowels
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sk_attention import AttentionPoolingClassifier, plot_attention

X_train, y_train = load_japanese_vowels(split="train")
X_test, y_test = load_japanese_vowels(split="test")
print(f"{len(X_train)} training series; the first: {X_train[0].shape} "
      "(channels, time points)")

# %%
# A baseline: each channel's mean over time, then logistic regression.
mean_pooling = make_pipeline(
    FunctionTransformer(lambda X: np.array([x.mean(axis=1) for x in X])),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
).fit(X_train, y_train)
print(f"mean pooling + LR: accuracy {mean_pooling.score(X_test, y_test):.3f}")

# %%
# Attention pooling over the steps as they are (``encoder=None``, order-free)
# and over the states of two convolutional encoders. Everything else is the
# default: the batch size, the epochs and the schedule follow from the data
# (``batch_size_``, ``max_epochs_``, ...).
models = {}
for encoder in [None, "conv", "fcn"]:
    clf = AttentionPoolingClassifier(
        encoder=encoder, input_layout="channels_first", random_state=0
    ).fit(X_train, y_train)
    models[encoder] = clf
    print(f"attention pooling, encoder={encoder}: accuracy "
          f"{clf.score(X_test, y_test):.3f} ({clf.max_epochs_} epochs of "
          f"batches of {clf.batch_size_})")

# %%
# Where the convolutional encoder's attention looks: one test series (its 12
# channels as lines) and the attention weight of each time point, shaded.
clf = models["conv"]
ax = plot_attention(clf, X_test[0])
ax.set_title(f"speaker {y_test[0]}: predicted {clf.predict(X_test[:1])[0]}")
plt.show()
