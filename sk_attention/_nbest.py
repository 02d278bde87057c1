"""n-best lists and scores of given outputs, as the seq2seq front ends return them.

:class:`~sk_attention.AttentionSeq2Seq` and the ONNX runtime's
:class:`~sk_attention.onnx.OnnxAttentionSeq2Seq` check the arguments of
``predict_nbest``, assemble its arrays and total ``score_samples`` here, so
that both answer alike. Torch-free.
"""

from numbers import Integral

import numpy as np

__all__ = ["NBestTable", "check_nbest_arguments", "total_log_probs"]


def _check_count(value, argument):
    """Refuse a count that is not an integer of at least 1, naming it."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{argument} must be an integer >= 1, got {value!r}.")


def check_nbest_arguments(n_best, beam_size):
    """Refuse an ``n_best`` or ``beam_size`` that ``predict_nbest`` cannot run.

    Raises
    ------
    ValueError
        If either is not an integer >= 1, or ``n_best > beam_size``.

    Examples
    --------
    >>> check_nbest_arguments(3, 2)
    Traceback (most recent call last):
    ...
    ValueError: n_best=3 is more than beam_size=2: a beam search keeps at most \
beam_size outputs. Pass beam_size>=3.
    """
    _check_count(beam_size, "beam_size")
    _check_count(n_best, "n_best")
    if n_best > beam_size:
        raise ValueError(
            f"n_best={n_best} is more than beam_size={beam_size}: a beam "
            f"search keeps at most beam_size outputs. Pass beam_size>={n_best}."
        )


class NBestTable:
    """The arrays of ``predict_nbest``, filled with the searches' outputs.

    Parameters
    ----------
    n_samples, n_best : int
    to_output : callable
        Decoded ids (without the end token) to an output in the form ``y``
        had in ``fit``: a string or a token list.
    target_is_text : bool
        Whether ``to_output`` returns strings.

    Attributes
    ----------
    outputs : ndarray of shape (n_samples, n_best), dtype object
        Distinct outputs per row, best first; None where a row has fewer.
    log_probs, scores : ndarray of shape (n_samples, n_best)
        ``-inf`` where a row has no output.
    """

    def __init__(self, n_samples, n_best, to_output, target_is_text):
        self.outputs = np.full((n_samples, n_best), None, dtype=object)
        self.log_probs = np.full((n_samples, n_best), -np.inf)
        self.scores = np.full((n_samples, n_best), -np.inf)
        self._to_output = to_output
        self._target_is_text = target_is_text

    def fill(self, start, found):
        """Write the outputs of rows ``start``, ``start + 1``, ....

        Parameters
        ----------
        start : int
        found : list of list of (list of int, float, float)
            Per row, its hypotheses best first, as
            :func:`sk_attention._search.nbest_lists` gives them.
        """
        for row, hypotheses in enumerate(found, start):
            seen = set()
            for ids, log_prob, score in hypotheses:
                output = self._to_output(ids)
                key = output if self._target_is_text else tuple(output)
                if key in seen:
                    continue  # a less likely spelling of the same output
                column = len(seen)
                seen.add(key)
                self.outputs[row, column] = output
                self.log_probs[row, column] = log_prob
                self.scores[row, column] = score

    def arrays(self):
        """``(outputs, log_probs, scores)``, as ``predict_nbest`` returns them."""
        return self.outputs, self.log_probs, self.scores


def total_log_probs(scored, per_token):
    """What ``score_samples`` returns from each pair's token log-probabilities.

    Parameters
    ----------
    scored : list of ndarray of shape (n_output_tokens + 1,)
    per_token : bool

    Returns
    -------
    ndarray of shape (n_samples,), or ``scored`` itself when ``per_token``
    """
    if per_token:
        return scored
    return np.array([values.sum(dtype=np.float64) for values in scored])
