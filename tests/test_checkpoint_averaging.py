"""Checkpoint averaging: which epochs are averaged, and when the mean is kept."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping

from sk_attention import AttentionSeq2Seq
from sk_attention._training import CheckpointAveraging

X = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
Y = 3 * X + 1


class _ScriptedScore(Callback):
    """Records a given validation score per epoch, and the epoch's weights."""

    def __init__(self, scores):
        self.scores = scores

    def on_train_begin(self, net, **kwargs):
        self.weights_ = {}

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        net.history.record("score", self.scores[epoch - 1])
        self.weights_[epoch] = {
            name: value.clone() for name, value in net.module_.state_dict().items()
        }


def _fit(scores, averaged_score, n_checkpoints=2, patience=None):
    scripted = _ScriptedScore(scores)
    callbacks = [("scripted", scripted)]
    if patience is not None:
        stopping = EarlyStopping(monitor="score", patience=patience, load_best=True)
        callbacks.append(("early_stopping", stopping))
    averaging = CheckpointAveraging(
        n_checkpoints, "score", lambda net, dataset: averaged_score
    )
    net = NeuralNetRegressor(
        torch.nn.Linear,
        module__in_features=1,
        module__out_features=1,
        max_epochs=len(scores),
        lr=0.05,
        train_split=lambda dataset, y: (dataset, dataset),
        callbacks=[*callbacks, ("averaging", averaging)],
        verbose=0,
    )
    torch.manual_seed(0)
    net.fit(X, Y)
    return net, scripted.weights_


def _mean(weights, epochs):
    return {
        name: torch.stack([weights[e][name] for e in epochs]).mean(0)
        for name in weights[epochs[0]]
    }


def _assert_holds(net, expected):
    for name, value in net.module_.state_dict().items():
        torch.testing.assert_close(value, expected[name])


def test_mean_of_the_last_epochs_is_kept_when_it_scores_as_well():
    net, weights = _fit([5.0, 4.0, 3.0, 2.0], averaged_score=2.0, n_checkpoints=3)
    assert net.history[-1, "averaged"] == [2, 3, 4]
    assert net.history[-1, "score_averaged"] == 2.0
    _assert_holds(net, _mean(weights, [2, 3, 4]))


def test_mean_that_scores_worse_is_dropped_for_the_epochs_own_weights():
    net, weights = _fit([5.0, 4.0, 3.0, 2.0], averaged_score=2.5, n_checkpoints=3)
    assert net.history[-1, "averaged"] == []
    assert net.history[-1, "score_averaged"] == 2.5
    _assert_holds(net, weights[4])


def test_window_ends_at_the_epoch_early_stopping_restores():
    scores = [5.0, 1.0, 2.0, 3.0, 4.0]  # best at epoch 2, stopped after 3 misses
    net, weights = _fit(scores, averaged_score=0.5, patience=3)
    assert len(net.history) == 5
    assert net.history[-1, "averaged"] == [1, 2]
    _assert_holds(net, _mean(weights, [1, 2]))


def test_one_epoch_is_not_averaged():
    net, weights = _fit([5.0], averaged_score=0.0)
    assert net.history[-1, "averaged"] == []
    assert net.history[-1, "score_averaged"] is None
    _assert_holds(net, weights[1])


@pytest.fixture(scope="module")
def reversal_pairs():
    rng = np.random.RandomState(0)
    words = ["".join(rng.choice(list("abcdef"), rng.randint(2, 6))) for _ in range(400)]
    return words, [w[::-1] for w in words]


def test_seq2seq_keeps_a_mean_only_if_it_decodes_the_validation_split_as_well(
    reversal_pairs,
):
    X, y = reversal_pairs
    settings = dict(
        hidden_size=32, embedding_dim=16, max_epochs=25, lr=3e-3, random_state=0
    )
    plain = AttentionSeq2Seq(average_checkpoints=1, **settings).fit(X, y)
    averaged = AttentionSeq2Seq(average_checkpoints=3, **settings).fit(X, y)
    assert "averaged" not in plain.history_[-1]
    # Training is the same until the end; only the final weights may differ.
    errors = plain.history_[:, "valid_error"]
    assert averaged.history_[:, "valid_error"] == errors
    selected = min(errors)
    assert selected < 0.1  # the model has learned the task
    epochs = averaged.history_[-1]["averaged"]
    score = averaged.history_[-1]["valid_error_averaged"]
    assert score is not None
    assert bool(epochs) == (score <= selected)
    assert epochs in (
        [],
        list(range(errors.index(selected) - 1, errors.index(selected) + 2)),
    )
    if not epochs:
        np.testing.assert_array_equal(averaged.predict(X), plain.predict(X))


def test_seq2seq_without_a_validation_split_averages_nothing(reversal_pairs):
    X, y = reversal_pairs
    model = AttentionSeq2Seq(
        hidden_size=16,
        embedding_dim=8,
        max_epochs=2,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    assert "averaged" not in model.history_[-1]
