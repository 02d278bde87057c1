import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_everything():
    """Each test starts from the same global random state."""
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def reversal_data():
    """A reverse-the-string task: 1,200 strings of 3-7 letters."""
    from sk_attention.datasets import make_reversal

    X, y = make_reversal(1200, min_length=3, max_length=7, alphabet="abcdefgh",
                         random_state=0)
    return X[:1000], y[:1000], X[1000:], y[1000:]
