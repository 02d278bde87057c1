"""The attention pooling estimators: a transformer, a classifier, a regressor.

The three share :class:`~._base.BaseAttentionPooling`; they differ only in
how they read ``y`` and what they return.
"""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)

from ._base import BaseAttentionPooling
from ._docs import INPUT_DOC, PARAMETERS_DOC, RESOLVED_DOC
from ._targets import (
    CLASSIFICATION,
    NO_REGRESSION,
    REGRESSION,
    RegressionTargetMixin,
    check_labels,
    check_n_samples,
    classes_from_config,
    classes_to_config,
    encode_classes,
    target_type,
)

__all__ = [
    "AttentionPooling",
    "AttentionPoolingClassifier",
    "AttentionPoolingRegressor",
]


class AttentionPooling(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    RegressionTargetMixin,
    BaseAttentionPooling,
):
    __doc__ = f"""Pool each sample's sequence of vectors into one vector with attention.

    A transformer for a Pipeline: ``fit(X, y)`` learns the attention from
    ``y`` through a small prediction head (classification when
    :func:`~sklearn.utils.multiclass.type_of_target` finds "binary" or
    "multiclass", regression for "continuous"), trained with skorch;
    ``transform`` returns the attention-weighted mean of the per-step
    embeddings, one block of columns per head.

    ``fit(X)`` without ``y`` trains nothing: each sequence is pooled with a
    parameter-free attention whose query is the sequence's own mean. With
    ``z_i`` the step scaled as ``scaling`` says and ``m`` their mean over the
    sequence, ``alpha_i = softmax_i(z_i . m / sqrt(n_features))`` and
    ``transform`` returns ``sum_i alpha_i x_i`` in the units of the input,
    ``n_features`` columns. Steps that lean the way the whole sequence
    departs from the training average weigh more; a sequence near that
    average pools to its plain mean.
    {INPUT_DOC}
    Parameters
    ----------{PARAMETERS_DOC}
    Attributes
    ----------
    n_features_in_ : int or None
        Features per step seen in ``fit``; None for text.
    vocabulary_ : Vocabulary or None
        The tokens learned in ``fit`` (text input), None for numeric input.
    tokenizer_ : Tokenizer or None
        What splits strings into tokens (text input).
    target_type_ : str or None
        What ``type_of_target`` found in ``y``; None when fitted without y.
    module_ : torch.nn.Module
        The pooling network: a step encoder, learned attention and a
        prediction head, or without y the parameter-free pooling.
    net_ : skorch.NeuralNet or None
        The trained skorch net; None when fitted without y.
    history_ : skorch.History or None
        Per-epoch losses; None when fitted without y.{RESOLVED_DOC}
    See Also
    --------
    AttentionPoolingClassifier : The same network predicting classes.
    AttentionPoolingRegressor : The same network predicting numbers.

    References
    ----------
    M. Ilse, J. Tomczak and M. Welling, "Attention-based deep multiple
    instance learning", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention import AttentionPooling
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 6, 3))
    >>> y = (X[:, :, 0].max(axis=1) > 1).astype(int)
    >>> pool = AttentionPooling(hidden_layer_sizes=(8,), max_epochs=2,
    ...                         random_state=0).fit(X, y)
    >>> pool.transform(X).shape
    (40, 8)
    >>> pool.attention_weights(X[:2])[0].shape
    (1, 6)
    >>> AttentionPooling().fit(X).transform([X[0], X[1, :3]]).shape
    (2, 3)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    _encoding_attributes = (
        *BaseAttentionPooling._encoding_attributes,
        "target_type_",
        "_classes",
        *RegressionTargetMixin._regression_attributes,
    )

    def _check_target(self, y, n_samples, fitted):
        if y is None:
            if fitted is not None:
                raise ValueError(
                    "warm_start=True continues training the fitted network, "
                    "which needs y; pass y, or set warm_start=False to fit the "
                    "parameter-free pooling."
                )
            untrained = {"_task": None, "_n_outputs": None, "target_type_": None}
            return {**untrained, "_classes": None, **NO_REGRESSION}, None
        y = check_n_samples(y, n_samples)
        found = target_type(y)
        if found in CLASSIFICATION:
            classes, codes = encode_classes(
                check_labels(y), None if fitted is None else fitted["_classes"]
            )
            encoding = {"_task": "classification", "_n_outputs": len(classes)}
            return {
                **encoding, "target_type_": found, "_classes": classes,
                **NO_REGRESSION,
            }, codes
        if found in REGRESSION:
            encoding, y_train = self._regression_target(y, fitted)
            return {**encoding, "target_type_": found, "_classes": None}, y_train
        what = "Unknown label type" if found == "unknown" else "Unsupported"
        raise ValueError(
            f"{what} target for y: type_of_target(y) is {found!r}; "
            "AttentionPooling learns from a binary, multiclass or continuous "
            "(possibly multi-output) target."
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> "AttentionPooling":
        """Learn the attention from ``y``, or the parameter-free pooling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), \
default=None
            Class labels or numbers; None uses the parameter-free attention.

        Returns
        -------
        self : AttentionPooling
        """
        return self._fit(X, y)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Pool each sequence into one vector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.

        Returns
        -------
        X_pooled : ndarray of shape (n_samples, n_outputs), float32
            ``n_outputs`` is ``num_heads * embedding width`` after a supervised
            fit, ``n_features`` after ``fit(X)``.
        """
        sequences = self._check_fitted_sequences(X)
        out = np.empty((len(sequences), self._n_features_out), dtype=np.float32)
        for index, _, pooled in self._stream(sequences, "pooled"):
            out[index] = pooled
        return out

    @property
    def _n_features_out(self):
        return self.module_.n_pooled

    def _target_to_config(self, encoding):
        config = {"target_type": encoding["target_type_"]}
        if encoding["_classes"] is not None:
            config.update(classes_to_config(encoding["_classes"]))
        if encoding["_task"] == "regression":
            config.update(self._regression_to_config(encoding))
        return config

    def _target_from_config(self, config):
        task = config.get("task", (str, None))
        # Files of format 1.0 did not store the classes of a transformer.
        has_classes = task == "classification" and (
            config.format_version != "1.0" or "classes" in config.get("fitted", dict)
        )
        return {
            "target_type_": config.get("target_type", (str, None), section="fitted"),
            "_classes": classes_from_config(config) if has_classes else None,
            **(
                self._regression_from_config(config)
                if task == "regression"
                else NO_REGRESSION
            ),
        }


class AttentionPoolingClassifier(ClassifierMixin, BaseAttentionPooling):
    __doc__ = f"""Classify sequences, bags or sets of vectors with attention pooling.

    Each step gets a state from an encoder (an MLP per step for bags and
    sets, or a recurrent, convolutional or Transformer encoder for
    sequences), the states are pooled with learned attention (one or more
    heads), and a linear layer predicts the class: attention-based
    multiple-instance learning (Ilse et al., 2018), time-series
    classification, and text classification with attention over encoder
    states (Yang et al., 2016; Lin et al., 2017). Trained with skorch on the
    cross-entropy loss; binary and multiclass, any label type.
    {INPUT_DOC}
    Parameters
    ----------{PARAMETERS_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    n_features_in_ : int or None
        Features per step seen in ``fit``; None for text.
    vocabulary_ : Vocabulary or None
        The tokens learned in ``fit`` (text input), None for numeric input.
    tokenizer_ : Tokenizer or None
        What splits strings into tokens (text input).
    module_ : torch.nn.Module
        The trained network: step encoder, attention, prediction head.
    net_ : skorch.NeuralNet
        The skorch net that trained it.
    history_ : skorch.History
        Per-epoch losses.{RESOLVED_DOC}
    See Also
    --------
    AttentionPooling : The pooled vectors as features for another model.
    AttentionPoolingRegressor : The same network predicting numbers.

    References
    ----------
    M. Ilse, J. Tomczak and M. Welling, "Attention-based deep multiple
    instance learning", ICML 2018.

    Z. Yang, D. Yang, C. Dyer, X. He, A. Smola and E. Hovy, "Hierarchical
    attention networks for document classification", NAACL 2016.

    Z. Lin, M. Feng, C. dos Santos, M. Yu, B. Xiang, B. Zhou and Y. Bengio,
    "A structured self-attentive sentence embedding", ICLR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention import AttentionPoolingClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(n, 2)) for n in rng.randint(3, 9, size=60)]
    >>> y = np.array(["high" if x[:, 0].max() > 1 else "low" for x in X])
    >>> clf = AttentionPoolingClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['high', 'low'], dtype='<U4')
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> [w.shape for w in clf.attention_weights(X[:2])]
    [(1, 7), (1, 8)]

    Texts, read in order by a recurrent encoder:

    >>> texts = ["good", "not good", "bad", "not bad"] * 10
    >>> labels = ["pos", "neg", "neg", "pos"] * 10
    >>> clf = AttentionPoolingClassifier(encoder="gru", max_epochs=20, lr=1e-2,
    ...                                  random_state=0).fit(texts, labels)
    >>> clf.predict(["not good", "not bad"])
    array(['neg', 'pos'], dtype='<U3')
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # 2-D X is read as order-free univariate sequences, which loses which
        # column holds which value: tabular benchmarks score poorly.
        tags.classifier_tags.poor_score = True
        return tags

    _encoding_attributes = (*BaseAttentionPooling._encoding_attributes, "classes_")

    def _check_target(self, y, n_samples, fitted):
        if y is None:
            raise ValueError(
                "AttentionPoolingClassifier requires y to be passed, but the "
                "target y is None."
            )
        y = check_labels(check_n_samples(y, n_samples))
        classes, codes = encode_classes(
            y, None if fitted is None else fitted["classes_"]
        )
        encoding = {"_task": "classification", "_n_outputs": len(classes)}
        return {**encoding, "classes_": classes}, codes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> "AttentionPoolingClassifier":
        """Train the network on labelled sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : AttentionPoolingClassifier
        """
        return self._fit(X, y)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        scores = self._predict_scores(X)
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self._predict_scores(X)  # checks that the model is fitted
        return self.classes_[scores.argmax(axis=1)]

    def _target_to_config(self, encoding):
        return classes_to_config(encoding["classes_"])

    def _target_from_config(self, config):
        return {"classes_": classes_from_config(config)}


class AttentionPoolingRegressor(
    RegressorMixin, RegressionTargetMixin, BaseAttentionPooling
):
    __doc__ = f"""Predict numbers from sequences, bags or sets of vectors.

    The network of :class:`AttentionPoolingClassifier` with a linear output
    trained on the mean squared error. Targets are standardized for training
    and predictions restored to their units; several targets (2-D ``y``) are
    predicted together.
    {INPUT_DOC}
    Parameters
    ----------{PARAMETERS_DOC}
    Attributes
    ----------
    n_features_in_ : int or None
        Features per step seen in ``fit``; None for text.
    vocabulary_ : Vocabulary or None
        The tokens learned in ``fit`` (text input), None for numeric input.
    tokenizer_ : Tokenizer or None
        What splits strings into tokens (text input).
    module_ : torch.nn.Module
        The trained network: step encoder, attention, prediction head.
    net_ : skorch.NeuralNet
        The skorch net that trained it.
    history_ : skorch.History
        Per-epoch losses.{RESOLVED_DOC}
    See Also
    --------
    AttentionPooling : The pooled vectors as features for another model.
    AttentionPoolingClassifier : The same network predicting classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention import AttentionPoolingRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 5, 2))
    >>> y = X[:, :, 0].max(axis=1)
    >>> reg = AttentionPoolingRegressor(max_epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # See AttentionPoolingClassifier: 2-D X loses the column identities.
        tags.regressor_tags.poor_score = True
        return tags

    _encoding_attributes = (
        *BaseAttentionPooling._encoding_attributes,
        *RegressionTargetMixin._regression_attributes,
    )

    def _check_target(self, y, n_samples, fitted):
        if y is None:
            raise ValueError(
                "AttentionPoolingRegressor requires y to be passed, but the "
                "target y is None."
            )
        return self._regression_target(check_n_samples(y, n_samples), fitted)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> "AttentionPoolingRegressor":
        """Train the network on sequences with numeric targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : AttentionPoolingRegressor
        """
        return self._fit(X, y)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            Numeric samples in the layout ``input_layout`` says; texts are
            strings or token lists.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            2-D when ``y`` was 2-D in ``fit``.
        """
        y = self._predict_scores(X) * self._y_scale + self._y_mean
        return y if self._y_2d else y[:, 0]

    def _target_to_config(self, encoding):
        return self._regression_to_config(encoding)

    def _target_from_config(self, config):
        return self._regression_from_config(config)
