"""Determinism: on the CPU, the same ``random_state`` gives bit-identical
predictions in one process, in separate processes (with different hash
seeds, so no ordering of sets or dicts can leak in), and inside
GridSearchCV whether it runs with ``n_jobs=1`` or ``n_jobs=2``; the tags say
that a GPU does not promise this."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)

SEQ2SEQ = dict(
    embedding_dim=8,
    hidden_size=8,
    max_epochs=2,
    batch_size=4,
    lr=1e-2,
    validation_fraction=None,
    early_stopping=False,
)
# Several scripts, so the vocabulary order cannot follow a set's order.
TEXT_X = ["abc", "bca", "😀b", "cé", "שלום", "مر", "ab\x00", "ba"] * 2
TEXT_Y = [x[::-1] for x in TEXT_X]
POOLING = dict(hidden_layer_sizes=(8,), attention_size=8, max_epochs=3, batch_size=8)
_rng = np.random.RandomState(0)
SEQUENCES = [_rng.normal(size=(n, 3)) for n in _rng.randint(2, 7, size=24)]
TARGETS = np.array([s[:, 0].max() for s in SEQUENCES])


def fingerprint(random_state):
    """Every prediction of both families, as raw bytes."""
    seq2seq = AttentionSeq2Seq(**SEQ2SEQ, random_state=random_state)
    seq2seq.fit(TEXT_X, TEXT_Y)
    regressor = AttentionPoolingRegressor(**POOLING, random_state=random_state)
    regressor.fit(SEQUENCES, TARGETS)
    parts = [
        "|".join(seq2seq.predict(TEXT_X)).encode(),
        "|".join(seq2seq.source_vocab_.tokens).encode(),
        *(w.tobytes() for w in seq2seq.attention_weights(TEXT_X)),
        regressor.predict(SEQUENCES).tobytes(),
        *(w.tobytes() for w in regressor.attention_weights(SEQUENCES)),
    ]
    return b"".join(parts)


def test_same_random_state_gives_identical_predictions_in_one_process():
    assert fingerprint(0) == fingerprint(0)
    assert fingerprint(np.random.RandomState(3)) == fingerprint(
        np.random.RandomState(3)
    )
    assert fingerprint(0) != fingerprint(1)


def test_same_random_state_gives_identical_predictions_across_processes():
    script = textwrap.dedent(
        """
        import sys
        import torch
        torch.set_num_threads(1)
        sys.path[:0] = [{tests!r}, {root!r}]
        from test_determinism import fingerprint
        sys.stdout.write(fingerprint(0).hex())
        """
    ).format(
        tests=os.path.dirname(__file__),
        root=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    # Another hash seed than this process's (random unless set), so set and
    # dict orders differ between the two runs.
    hash_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert bytes.fromhex(result.stdout) == fingerprint(0)


@pytest.mark.parametrize(
    "estimator, grid, X, y",
    [
        (
            AttentionPoolingRegressor(**POOLING, random_state=0),
            {"attention": ["gated", "scaled_dot"]},
            SEQUENCES,
            TARGETS,
        ),
        (
            AttentionSeq2Seq(**SEQ2SEQ, random_state=0),
            {"hidden_size": [8, 12]},
            TEXT_X,
            TEXT_Y,
        ),
    ],
    ids=["pooling", "seq2seq"],
)
def test_grid_search_gives_identical_results_for_any_n_jobs(estimator, grid, X, y):
    results = []
    for n_jobs in (1, 2):
        # One torch thread in every worker, as in the parent process.
        with parallel_config(backend="loky", inner_max_num_threads=1):
            search = GridSearchCV(estimator, grid, cv=2, n_jobs=n_jobs).fit(X, y)
        scores = [search.cv_results_[f"split{i}_test_score"] for i in range(2)]
        predictions = search.predict(X)
        results.append((np.concatenate(scores), predictions))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize(
    "Estimator",
    [
        AttentionSeq2Seq,
        AttentionPooling,
        AttentionPoolingClassifier,
        AttentionPoolingRegressor,
    ],
)
def test_tags_say_a_gpu_is_not_deterministic(Estimator):
    assert not Estimator(device="cpu").__sklearn_tags__().non_deterministic
    assert Estimator(device="cuda").__sklearn_tags__().non_deterministic
