"""Every example runs as a script, and what the docs promise about it holds.

The examples are run as the docs tell users to run them (``python
examples/<name>.py``), each in a fresh process and an empty working folder,
with matplotlib's non-interactive backend. The documented progress options
are checked here too.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skorch.callbacks import ProgressBar

from sk_attention import AttentionPoolingClassifier, AttentionSeq2Seq

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# Figures each example prints, with the least it must reach: a regression in
# the library shows up here rather than only in the rendered gallery.
EXPECTED = {
    "quickstart.py": [(r"held-out exact match: ([\d.]+)", 0.95)],
    "plot_transliteration.py": [(r"exact match:\s+([\d.]+)", 0.5)],
    "plot_g2p_cmudict.py": [(r"exact match \(beam 5\): ([\d.]+)", 0.25)],
    "plot_nbest_confidence.py": [
        (r"top output right for ([\d.]+)", 0.4),
        (r"equals their log_probs: (True)", None),
        (r"ROC AUC of the margin for right answers: ([\d.]+)", 0.65),
    ],
    "plot_grid_search_attention.py": [(r"exact match on unseen strings ([\d.]+)", 0.6)],
    "plot_mil_digits_bags.py": [
        # The classifier's ROC AUC at 200 training bags, then the mean
        # attention weight of the 9s (uniform would be about 0.1).
        (r"AttentionPoolingClassifier(?:\s+[\d.]+ ± [\d.]+){2}\s+([\d.]+)", 0.95),
        (r"mean weight on the 9s: ([\d.]+)", 0.4),
    ],
    "plot_pooling_pipeline.py": [(r"attention pooling \+ LR: accuracy ([\d.]+)", 0.85)],
    "plot_deploy_onnx.py": [
        (r"same greedy outputs on 200 held-out strings: (True)", None),
        (r"same beam-search outputs: (True)", None),
        (r"exact match after quantization: ([\d.]+)", 0.9),
    ],
    "plot_time_series_classification.py": [
        (r"encoder=conv: accuracy ([\d.]+)", 0.96)
    ],
    "plot_text_classification.py": [(r"encoder='gru': accuracy ([\d.]+)", 0.7)],
    "plot_word_vectors.py": [(r"attention classifier: accuracy ([\d.]+)", 0.7)],
    "plot_save_load.py": [
        (r"same greedy predictions on all 1000 strings: (True)", None),
        (r"\['no' 'yes'\] (True)", None),
    ],
}


def test_examples_are_found():
    names = {path.name for path in EXAMPLES}
    assert {"quickstart.py", "plot_transliteration.py"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs_as_a_script(path, tmp_path):
    # One torch thread: the suite runs a worker per core, and threads that
    # outnumber the free cores make every process many times slower.
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "examples print what they found"
    for pattern, least in EXPECTED.get(path.name, []):
        found = re.search(pattern, result.stdout)
        assert found, f"{pattern!r} not in the output:\n{result.stdout[-2000:]}"
        if least is not None:
            assert float(found.group(1)) >= least, found.group(0)
    if path.name == "quickstart.py":
        assert (tmp_path / "quickstart_attention.png").stat().st_size > 10_000


def _assert_counted_batches(bar, n_batches):
    # The bar of the last epoch counted every batch (tqdm only redraws every
    # 0.1 s, so what reaches stderr depends on speed; the count does not).
    assert bar.pbar_.total == n_batches
    assert bar.pbar_.n == n_batches


def test_progress_bar_over_batches_of_seq2seq(capsys):
    X = ["abc", "bca", "cab", "acb"] * 10  # 40 pairs: 3 batches of 16
    bar = ProgressBar()
    AttentionSeq2Seq(
        hidden_size=8,
        embedding_dim=4,
        max_epochs=2,
        batch_size=16,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
        callbacks=[bar],
    ).fit(X, X)
    _assert_counted_batches(bar, 3)
    assert "/3 [" in capsys.readouterr().err  # tqdm drew on stderr


def test_progress_bar_and_epoch_table_of_pooling(capsys):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5, 2))
    y = (X[:, :, 0].max(axis=1) > 1).astype(int)
    bar = ProgressBar()
    AttentionPoolingClassifier(
        max_epochs=2,
        batch_size=20,
        random_state=0,
        verbose=1,
        callbacks=[bar],
    ).fit(X, y)
    _assert_counted_batches(bar, 2)
    captured = capsys.readouterr()
    assert "/2 [" in captured.err
    # verbose=1: skorch's table, one row per epoch.
    assert re.search(r"epoch\s+train_loss", captured.out)
    assert re.search(r"^\s+2\s+\S*[\d.]+", captured.out, re.MULTILINE)
