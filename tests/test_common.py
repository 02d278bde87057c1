"""scikit-learn's estimator checks on the pooling and seq2seq estimators."""

import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_attention import AttentionSeq2Seq
from sk_attention._pooling import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
)

# Small and quick: the checks fit each estimator dozens of times.
TINY = dict(
    hidden_layer_sizes=(8,),
    attention_size=8,
    max_epochs=5,
    batch_size=32,
    random_state=0,
)


# A 2-D X is read as n_samples univariate sequences: its columns are steps,
# not features, and sequences of another length are valid input.
_COLUMNS_ARE_STEPS = (
    "a 2-D X is read as univariate sequences, so n_features_in_ is 1 (features "
    "per step) and X.shape[1] is the sequence length"
)
_OTHER_LENGTH_IS_VALID = (
    "the check requires a 2-D X with one column fewer to be rejected; here it "
    "is a batch of shorter univariate sequences, which is valid input (the "
    "check's other assertions are covered in test_pooling.py)"
)
_EXPECTED_FAILURES = {
    "check_n_features_in": _COLUMNS_ARE_STEPS,
    "check_n_features_in_after_fitting": _COLUMNS_ARE_STEPS,
    "check_estimators_empty_data_messages": (
        "a 2-D X with 0 columns holds sequences of 0 steps; the ValueError "
        "says 'X[0] is an empty sequence (0 steps)', not check_array's "
        "'0 feature(s)' message"
    ),
}
_EXPECTED_FAILURES_BY_CLASS = {
    AttentionPooling: {"check_transformer_general": _OTHER_LENGTH_IS_VALID},
    AttentionPoolingClassifier: {"check_classifiers_train": _OTHER_LENGTH_IS_VALID},
    AttentionPoolingRegressor: {},
}


def expected_failed_checks(estimator):
    """Checks that cannot apply to sequence input, with the reason."""
    return {**_EXPECTED_FAILURES, **_EXPECTED_FAILURES_BY_CLASS[type(estimator)]}


@parametrize_with_checks(
    [
        AttentionPooling(**TINY),
        AttentionPoolingClassifier(**TINY),
        AttentionPoolingRegressor(**TINY),
        # A sequence encoder sees each step in context; the checks still hold.
        AttentionPoolingClassifier(encoder="conv", encoder_size=8, **TINY),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# AttentionSeq2Seq reads strings, and scikit-learn's other checks fit it on a
# numeric 2-D X, which it refuses by design (its fitting contract is tested
# on strings in test_seq2seq.py and test_robustness.py). These are the
# checks of the estimator API itself: construction, parameters, cloning,
# tags, representation, validation of parameters, and refusal when unfitted.
_SEQ2SEQ_API_CHECKS = [
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_estimators_unfitted",
    "check_get_params_invariance",
    "check_mixin_order",
    "check_no_attributes_set_in_init",
    "check_param_validation",
    "check_parameters_default_constructible",
    "check_set_params",
    "check_valid_tag_types",
]


@pytest.mark.parametrize("check_name", _SEQ2SEQ_API_CHECKS)
@pytest.mark.parametrize(
    "estimator",
    [
        AttentionSeq2Seq(max_epochs=1, random_state=0),
        AttentionSeq2Seq(architecture="transformer", max_epochs=1, random_state=0),
    ],
    ids=["recurrent", "transformer"],
)
def test_seq2seq_follows_the_estimator_api(estimator, check_name):
    getattr(estimator_checks, check_name)(type(estimator).__name__, estimator)
