"""The pooling estimators' "auto" settings: one table of rules; text input
sizes its training from the number of texts, numeric bags keep the fixed
values of earlier versions (numeric sequences read by an encoder:
tests/test_pooling_timeseries.py)."""

import numpy as np
import pytest

from sk_attention import AttentionPoolingClassifier
from sk_attention._base import TrainingData
from sk_attention._pooling._auto import AUTO_RULES
from sk_attention._text import Vocabulary

AUTO_NAMES = [
    "embedding_dim", "scaling", "encoder_size", "attention", "dropout",
    "linear_ngrams", "label_smoothing", "batch_size",
    "early_stopping", "validation_fraction", "n_iter_no_change", "embedding_lr",
    "max_epochs", "lr_schedule", "keep_best",
]


class _Sized:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def _resolve(n_samples, text=True, task="classification", **params):
    """What fit would resolve for ``n_samples`` training samples."""
    estimator = AttentionPoolingClassifier(**params)
    encoding = {
        "n_features_in_": None if text else 3,
        "vocabulary_": Vocabulary(["a"]) if text else None,
        "_task": task,
        "_n_outputs": 2,
    }
    return estimator._resolve_auto(
        encoding, TrainingData(_Sized(n_samples)), warm_start=False
    )


def test_every_auto_setting_defaults_to_auto():
    params = AttentionPoolingClassifier().get_params()
    assert list(AUTO_RULES) == AUTO_NAMES
    assert AttentionPoolingClassifier._auto_rules is AUTO_RULES  # one table
    assert all(params[name] == "auto" for name in AUTO_NAMES)


def test_numeric_bags_keep_the_fixed_defaults():
    # Bags and sets (encoder=None) train as before the settings were "auto".
    assert _resolve(100_000, text=False) == {
        "embedding_dim": 64, "batch_size": 32, "early_stopping": False,
        "validation_fraction": None, "n_iter_no_change": 10,
        "embedding_lr": 1e-3, "max_epochs": 100, "scaling": "global",
        "encoder_size": 64, "attention": "gated", "dropout": 0.2,
        "linear_ngrams": None, "label_smoothing": 0.0, "lr_schedule": "constant",
        "keep_best": False,
    }


@pytest.mark.parametrize(
    "n_samples, batch_size, stopping, max_epochs",
    [
        (80, 32, False, 100),  # few texts: many epochs, no split to spare
        (1_000, 32, False, 100),  # about 4,000 updates
        (7_000, 32, True, 19),
        (40_000, 128, True, 13),  # larger batches: fewer, larger kernel calls
        (1_000_000, 256, True, 10),
    ],
)
def test_text_training_is_sized_from_the_number_of_texts(
    n_samples, batch_size, stopping, max_epochs
):
    resolved = _resolve(n_samples)
    assert resolved["batch_size"] == batch_size
    assert resolved["early_stopping"] is stopping
    assert resolved["validation_fraction"] == (0.1 if stopping else None)
    assert resolved["n_iter_no_change"] == 3
    assert resolved["max_epochs"] == max_epochs


def test_user_settings_are_kept_and_feed_the_later_rules():
    resolved = _resolve(500, batch_size=10, early_stopping=True)
    assert resolved["batch_size"] == 10
    assert resolved["validation_fraction"] == 0.1  # early stopping needs one
    assert resolved["max_epochs"] == 80  # 4,000 updates of 50 batches
    resolved = _resolve(50_000, validation_fraction=None)
    assert resolved["early_stopping"] is False  # nothing to watch


def test_text_embeddings_learn_faster_than_the_network():
    assert _resolve(100, lr=2e-3)["embedding_lr"] == pytest.approx(2e-2)
    clf = AttentionPoolingClassifier(max_epochs=1, random_state=0, lr=2e-3)
    clf.fit(["good film", "bad film"] * 5, [1, 0] * 5)
    # Groups: the token embedding, the bag-of-n-grams term, the rest.
    rates = sorted(g["lr"] for g in clf.net_.optimizer_.param_groups)
    assert rates == pytest.approx([2e-3, 2e-2, 2e-2])
    assert clf.embedding_lr_ == pytest.approx(2e-2)
    clf.set_params(warm_start=True, lr=1e-3).fit(["good film", "bad"], [1, 0])
    rates = sorted(g["lr"] for g in clf.net_.optimizer_.param_groups)
    assert rates == pytest.approx([1e-3, 2e-2, 2e-2])  # a warm start keeps both
    same = AttentionPoolingClassifier(max_epochs=1, embedding_lr=1e-3)
    same.fit(["good film", "bad"], [1, 0])
    assert len(same.net_.optimizer_.param_groups) == 1


def test_the_embedding_takes_the_width_of_pretrained_vectors():
    vectors = (["good", "bad"], np.ones((2, 7)))
    assert _resolve(10, pretrained_embeddings=vectors)["embedding_dim"] == 7
    assert _resolve(10)["embedding_dim"] == 64


def test_text_classifiers_smooth_their_targets():
    assert _resolve(100)["label_smoothing"] == 0.1
    assert _resolve(100, task="regression")["label_smoothing"] == 0.0
    assert _resolve(100, text=False)["label_smoothing"] == 0.0
    assert _resolve(100, label_smoothing=0.3)["label_smoothing"] == 0.3
    texts, labels = ["good film", "bad film", "good", "bad"] * 10, [1, 0, 1, 0] * 10
    confidence = {}
    for smoothing in ("auto", 0.0):
        clf = AttentionPoolingClassifier(
            label_smoothing=smoothing, max_epochs=60, random_state=0
        ).fit(texts, labels)
        assert clf.net_.criterion_.loss.label_smoothing == clf.label_smoothing_
        confidence[smoothing] = clf.predict_proba(["good", "bad"]).max(axis=1)
    # Smoothed targets (0.95 / 0.05 for two classes) cap the confidence that
    # the plain cross-entropy drives towards 1 on separable data.
    assert np.all(confidence["auto"] < 0.97)
    assert np.all(confidence[0.0] > confidence["auto"])


@pytest.mark.parametrize("value", [-0.1, 1.0, "much"])
def test_an_invalid_label_smoothing_is_refused_naming_it(value):
    clf = AttentionPoolingClassifier(label_smoothing=value)
    with pytest.raises(ValueError, match="label_smoothing"):
        clf.fit(["good film", "bad film"], [1, 0])
    assert not hasattr(clf, "label_smoothing_")  # nothing fitted


def test_fit_stores_the_resolved_values_and_stops_early(tmp_path):
    texts = [f"w{i % 50} and w{(i * 7) % 50}" for i in range(2_000)]
    labels = np.random.RandomState(0).randint(2, size=2_000)  # noise
    clf = AttentionPoolingClassifier(
        hidden_layer_sizes=(8,), attention_size=8, random_state=0,
        pretrained_embeddings=(["and"], np.ones((1, 6))),
    ).fit(texts, labels)
    assert clf.embedding_dim_ == 6 and clf.module_.tokens.weight.shape[1] == 6
    assert clf.early_stopping_ is True and clf.validation_fraction_ == 0.1
    assert clf.batch_size_ == 32 and clf.max_epochs_ == 64
    assert len(clf.history_) < clf.max_epochs_  # nothing to learn: it stops
    assert "valid_loss" in clf.history_[-1]
    assert clf.max_epochs == "auto"  # the parameter keeps what the user set
    clf.save(tmp_path / "auto.safetensors")
    loaded = AttentionPoolingClassifier.load(tmp_path / "auto.safetensors")
    assert loaded.embedding_dim_ == 6 and loaded.max_epochs_ == 64
