"""Scaling out: searches on a dask cluster, training on two processes."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from distributed import Client, LocalCluster, get_task_stream
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)
from sk_attention._pooling._model import PoolingLoss
from sk_attention.datasets import make_reversal
from sk_attention.distributed import (
    AcceleratedAttentionPooling,
    AcceleratedAttentionPoolingClassifier,
    AcceleratedAttentionPoolingRegressor,
    AcceleratedAttentionSeq2Seq,
    TorchThreads,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    """Two worker processes with one thread each, as on a 2-core machine."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: other clusters may run
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(TorchThreads(1))
        yield client


def _scores(search):
    keys = [k for k in search.cv_results_ if k.endswith("_test_score")]
    return {k: search.cv_results_[k] for k in keys}


def _search_both_ways(search, client, X, y):
    """``cv_results_`` scores with ``n_jobs=1`` and on the dask cluster."""
    local = clone(search).set_params(n_jobs=1).fit(X, y)
    with get_task_stream(client) as tasks, parallel_config(backend="dask"):
        remote = clone(search).fit(X, y)
    return _scores(local), _scores(remote), {t["worker"] for t in tasks.data}


def test_seq2seq_grid_search_on_dask_matches_one_job(client):
    X, y = make_reversal(
        160, min_length=3, max_length=4, alphabet="abcd", random_state=0
    )
    model = AttentionSeq2Seq(
        embedding_dim=8,
        hidden_size=16,
        max_epochs=12,
        batch_size=16,
        lr=0.02,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
    )
    search = GridSearchCV(model, {"attention": ["additive", "dot"]}, cv=2, refit=False)
    local, remote, workers = _search_both_ways(search, client, X, y)
    # The fits ran on the cluster; dask may give every short fit to one worker.
    assert workers <= set(client.scheduler_info()["workers"]) and workers
    for key, scores in local.items():
        assert_array_equal(remote[key], scores, err_msg=key)
    # A search whose models all scored 0 would compare nothing.
    assert 0 < local["mean_test_score"].min() < 1


def _pooling_search():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 6, 3))
    y = (X[:, :, 0].max(axis=1) > 1.2).astype(int)
    pipeline = make_pipeline(
        AttentionPooling(hidden_layer_sizes=(8,), max_epochs=5, random_state=0),
        LogisticRegression(),
    )
    grid = {
        "attentionpooling__attention": ["gated", "scaled_dot"],
        "logisticregression__C": [0.1, 1.0],
    }
    return GridSearchCV(pipeline, grid, cv=3, refit=False), X, y


def test_pooling_pipeline_grid_search_on_dask_matches_one_job(
    client,
):
    search, X, y = _pooling_search()
    local, remote, workers = _search_both_ways(search, client, X, y)
    # The fits ran on the cluster; dask may give every short fit to one worker.
    assert workers <= set(client.scheduler_info()["workers"]) and workers
    for key, scores in local.items():
        assert_array_equal(remote[key], scores, err_msg=key)
    assert np.ptp(local["mean_test_score"]) > 0  # the grid changed something


def test_pooling_pipeline_grid_search_on_ray_matches_one_job():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    search, X, y = _pooling_search()
    local = _scores(clone(search).fit(X, y))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with parallel_config(backend="ray"):
            remote = _scores(clone(search).fit(X, y))
    finally:
        ray.shutdown()
    for key, scores in local.items():
        assert_array_equal(remote[key], scores, err_msg=key)


def test_fitted_model_comes_back_from_a_worker(client):
    X, y = make_reversal(60, min_length=3, max_length=4, alphabet="abc", random_state=1)
    model = AttentionSeq2Seq(
        embedding_dim=8,
        hidden_size=16,
        max_epochs=3,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
    )
    shipped = client.submit(clone(model).fit, X, y).result()
    assert_array_equal(shipped.predict(X), clone(model).fit(X, y).predict(X))


def test_torch_threads_rejects_a_bad_count():
    with pytest.raises(ValueError, match="n_threads must be a positive int"):
        TorchThreads(0)


@pytest.mark.parametrize(
    "accelerated, plain",
    [
        (AcceleratedAttentionSeq2Seq, AttentionSeq2Seq),
        (AcceleratedAttentionPooling, AttentionPooling),
        (AcceleratedAttentionPoolingClassifier, AttentionPoolingClassifier),
        (AcceleratedAttentionPoolingRegressor, AttentionPoolingRegressor),
    ],
)
def test_accelerated_estimators_take_the_plain_parameters(accelerated, plain):
    model = accelerated(max_epochs=3, random_state=1)
    assert model.get_params() == plain(max_epochs=3, random_state=1).get_params()
    assert clone(model).get_params() == model.get_params()
    assert isinstance(model, plain)


def test_accelerated_net_is_plain_outside_fit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, 2))
    y = (X[:, :, 0].max(axis=1) > 1).astype(int)
    clf = AcceleratedAttentionPoolingClassifier(max_epochs=2, random_state=0)
    net = clf.fit(X, y).net_
    assert net.accelerator.num_processes == 1 and net.device == "cpu"
    # The loss (plus the attention penalty) has no parameters, so it was
    # never handed to accelerate; the
    # optimizer is unwrapped again once fit returns.
    assert type(net.criterion_) is PoolingLoss
    assert type(net.criterion_.loss) is torch.nn.CrossEntropyLoss
    assert type(net.optimizer_) is torch.optim.Adam
    # A warm start prepares a new net from the fitted one and goes on training.
    clf.set_params(warm_start=True).fit(X, y)
    assert len(clf.history_) == 4 and len(net.history) == 2
    assert type(clf.net_.optimizer_) is torch.optim.Adam


# A training script run as one process and as two (torchrun, gloo). It
# writes what each process saw and learned to OUT/rank<i>.json.
_SCRIPT = """
import json, os, pickle, sys
import numpy as np
from skorch.callbacks import Callback
from sk_attention.distributed import (
    AcceleratedAttentionPoolingRegressor, AcceleratedAttentionSeq2Seq)
from sk_attention._pooling._model import PoolingLoss
from sk_attention.datasets import make_reversal

out = sys.argv[1]
n = int(os.environ.get("WORLD_SIZE", "1"))

class Seen(Callback):
    # The samples each training batch held, known by their first value.
    def on_train_begin(self, net, **kwargs):
        self.epochs = []
    def on_epoch_begin(self, net, **kwargs):
        self.epochs.append([])
    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.epochs[-1].extend(batch[0]["X"][:, 0, 0].tolist())

# Ragged sequences: batches of unequal size, and dropout that draws unequal
# amounts of random numbers in each process.
rng = np.random.RandomState(0)
X = [rng.normal(size=(n, 3)).astype(np.float32) for n in rng.randint(2, 12, 300)]
y = np.array([x[:, 0].max() for x in X])
seen = Seen()
reg = AcceleratedAttentionPoolingRegressor(
    hidden_layer_sizes=(16,), max_epochs=20, batch_size=32 // n, lr=1e-2,
    validation_fraction=0.2, early_stopping=True, n_iter_no_change=3,
    gradient_clip=1.0, random_state=0, callbacks=[seen],
).fit(X[:200], y[:200])
accelerator = reg.net_.accelerator
if accelerator.is_main_process:
    reg.save(os.path.join(out, "regressor.safetensors"))

Xs, ys = make_reversal(500, min_length=3, max_length=5, alphabet="abcde",
                       random_state=0)
s2s = AcceleratedAttentionSeq2Seq(
    embedding_dim=16, hidden_size=32, max_epochs=16, batch_size=32 // n,
    lr=0.01, validation_fraction=0.1, random_state=0,
).fit(Xs[:400], ys[:400])

try:
    AcceleratedAttentionPoolingRegressor(max_epochs=1).fit(X[:20], y[:20])
    seed_error = None
except ValueError as error:
    seed_error = str(error)

report = {
    "n_processes": accelerator.num_processes,
    "seed_error": seed_error,
    "seen": seen.epochs,
    "r2": reg.score(X[200:], y[200:]),
    "predictions": reg.predict(X[200:]).tolist(),
    "unpickled": pickle.loads(pickle.dumps(reg)).predict(X[200:]).tolist(),
    "valid_loss": reg.history_[:, "valid_loss"],
    "weights": [p.sum().item() for p in reg.module_.parameters()],
    "seq2seq": s2s.score(Xs[400:], ys[400:]),
    "seq2seq_valid_loss": s2s.history_[:, "valid_loss"],
}
with open(os.path.join(out, f"rank{accelerator.process_index}.json"), "w") as f:
    json.dump(report, f)
"""


def _train(tmp_path, n_processes):
    out = tmp_path / str(n_processes)
    out.mkdir()
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    launcher = [sys.executable]
    if n_processes > 1:
        launcher += [
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={n_processes}",
        ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [*launcher, str(script), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, [
        json.loads((out / f"rank{i}.json").read_text()) for i in range(n_processes)
    ]


def test_two_processes_train_as_well_as_one(tmp_path):
    _, (single,) = _train(tmp_path, 1)
    out, ranks = _train(tmp_path, 2)
    first, second = ranks
    assert first["n_processes"] == second["n_processes"] == 2
    assert single["seed_error"] is None
    assert (
        "random_state must be an int when training on 2 processes"
        in (first["seed_error"])
    )

    # Gradients were averaged and losses shared: both processes hold the same
    # model and took the same early-stopping decisions.
    assert first["weights"] == second["weights"]
    assert first["valid_loss"] == second["valid_loss"]
    assert first["seq2seq_valid_loss"] == second["seq2seq_valid_loss"]
    assert first["unpickled"] == first["predictions"]

    # Every epoch, the two shares of batches cover the training split (as
    # one process sees it), overlapping only in the batch that evens them.
    for epoch, (a, b) in enumerate(zip(first["seen"], second["seen"])):
        assert set(a) | set(b) == set(single["seen"][epoch])
        assert len(set(a) & set(b)) <= 16
        assert abs(len(a) - len(b)) <= 16

    # Same effective batch size, same quality within tolerance.
    assert first["r2"] > 0.8
    assert abs(first["r2"] - single["r2"]) < 0.1
    assert first["seq2seq"] > 0.7
    assert abs(first["seq2seq"] - single["seq2seq"]) < 0.1

    # The main process saved the model; it loads in a plain process.
    loaded = AcceleratedAttentionPoolingRegressor.load(out / "regressor.safetensors")
    rng = np.random.RandomState(0)  # the script's test sequences
    X = [rng.normal(size=(n, 3)).astype(np.float32) for n in rng.randint(2, 12, 300)]
    assert_allclose(loaded.predict(X[200:]), first["predictions"], rtol=1e-5)
