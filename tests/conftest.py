from datetime import timedelta

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

# Property tests: "ci" keeps the suite fast and is the default; it is
# derandomized so that a run of the suite is reproducible and a failure found
# by exploration becomes an ``@example``.
# ``pytest --hypothesis-profile=long`` explores a few thousand random inputs
# per test.
# Fitted models are reused across examples (module-scoped fixtures), which
# is safe because no test mutates them.
_REUSED_FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=timedelta(seconds=20),
    suppress_health_check=_REUSED_FIXTURES,
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=2500,
    deadline=timedelta(seconds=20),
    suppress_health_check=_REUSED_FIXTURES,
    print_blob=True,
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _seed_everything():
    """Each test starts from the same global random state."""
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def reversal_data():
    """A reverse-the-string task: 1,200 strings of 3-7 letters."""
    from sk_attention.datasets import make_reversal

    X, y = make_reversal(
        1200, min_length=3, max_length=7, alphabet="abcdefgh", random_state=0
    )
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Run the suite on one torch thread.

    The networks in the tests are tiny and gain nothing from threads, while
    threads that spin-wait lose badly wherever cores are shared (a dask
    worker, a parallel search, a busy machine). One thread also makes exact
    comparisons with other processes (workers, subprocesses) hold.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
