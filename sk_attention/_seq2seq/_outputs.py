"""What a fitted AttentionSeq2Seq says about its outputs, beyond ``predict``.

The n-best outputs of a beam search with their scores, the log-probability
of given outputs, and the attention of each output token over the source.
:class:`OutputsMixin` holds these methods for :class:`AttentionSeq2Seq`,
whose fitted state (vocabularies, tokenizers, ``module_``) and chunking
they use.
"""

from sklearn.utils.validation import check_is_fitted

from .._nbest import NBestTable, check_nbest_arguments, total_log_probs
from .._text import check_pairs, check_text_sequences, tokenize_items
from ._architectures import ARCHITECTURES
from ._inference import decode_nbest, forced_attention, target_log_probs

__all__ = ["OutputsMixin"]


class OutputsMixin:
    """n-best lists, scores of given outputs and attention weights."""

    def predict_nbest(self, X, n_best: int = 5, *, beam_size: int | None = None):
        """The ``n_best`` best outputs of a beam search for each source.

        One beam search per source, as :meth:`predict` runs with the same
        ``beam_size``; its ``n_best`` best finished outputs, best first,
        ranked like :meth:`predict` ranks them (by ``log_probs / length **
        length_penalty``, the end token counted in the length). The first
        output is the one :meth:`predict` returns, so ``n_best=1`` gives
        :meth:`predict`'s outputs with their scores.

        Parameters
        ----------
        X : sequence of str or of list of str
        n_best : int, default=5
            Outputs per source, at most ``beam_size``: a beam keeps no more.
        beam_size : int, default=None
            The width of the search; None uses the estimator's ``beam_size``.

        Returns
        -------
        outputs : ndarray of shape (n_samples, n_best), dtype object
            Strings if ``y`` held strings in ``fit``, else token lists; the
            outputs of a row are distinct. A row has fewer than ``n_best``
            when the beam found fewer (a tiny vocabulary, or two token
            sequences that detokenise to the same string, of which the more
            likely is kept); the rest of the row is None.
        log_probs : ndarray of shape (n_samples, n_best)
            Total log-probability of each output, its end token included;
            :meth:`score_samples` gives the same for a given output. ``-inf``
            where the row has no output.
        scores : ndarray of shape (n_samples, n_best)
            The length-normalised scores the outputs are ranked by,
            decreasing along each row; ``-inf`` where the row has no output.
            ``scores[:, 0] - scores[:, 1]``, the margin of the best output
            over the next, is a confidence (see the user guide).

        Raises
        ------
        ValueError
            If ``n_best`` is less than 1 or more than the beam size.

        See Also
        --------
        score_samples : the log-probability of given outputs.

        Examples
        --------
        >>> from sk_attention import AttentionSeq2Seq
        >>> X = ["abc", "bca", "cab", "acb", "bac", "cba"] * 20
        >>> model = AttentionSeq2Seq(
        ...     hidden_size=16, embedding_dim=8, max_epochs=20, lr=0.02,
        ...     beam_size=3, validation_fraction=None, early_stopping=False,
        ...     random_state=0).fit(X, [x[::-1] for x in X])
        >>> outputs, log_probs, scores = model.predict_nbest(["abc"], n_best=3)
        >>> outputs.shape, outputs[0, 0] == model.predict(["abc"])[0]
        ((1, 3), True)
        >>> bool(scores[0, 0] >= scores[0, 1] >= scores[0, 2])
        True
        """
        check_is_fitted(self)
        beam_size = self.beam_size if beam_size is None else beam_size
        check_nbest_arguments(n_best, beam_size)
        X_items, _ = check_text_sequences(X, "X")
        table = NBestTable(len(X_items), n_best, self._output, self.target_is_text_)
        for start, chunk in self._chunks(X_items):
            table.fill(
                start,
                decode_nbest(
                    self.module_,
                    self._source_ids(chunk, start),
                    batch_size=self.predict_batch_size,
                    max_length=self.max_output_length_,
                    beam_size=beam_size,
                    n_best=n_best,
                    length_penalty=self.length_penalty,
                ),
            )
        return table.arrays()

    def score_samples(self, X, y, *, per_token: bool = False):
        """The log-probability the model gives each output ``y`` for ``X``.

        The decoder reads each source and its given output (teacher
        forcing) and sums the log-probabilities of the output's tokens and
        of the end token, under the distribution the searches decode from.
        Higher is more likely, as scikit-learn's ``score_samples`` has it.
        Strings are split by the fitted target tokenizer (tokens unseen in
        ``fit`` score as the unknown token); :meth:`predict_nbest` reports
        the same number for its outputs, unless a subword tokenizer would
        spell the output with other tokens than the search did.

        Parameters
        ----------
        X : sequence of str or of list of str
        y : sequence of str or of list of str
            One output per source.
        per_token : bool, default=False
            Return each token's log-probability instead of their sum.

        Returns
        -------
        ndarray of shape (n_samples,), or list of ndarray
            The total log-probability of each pair; with ``per_token=True``,
            one array per pair of shape ``(n_output_tokens + 1,)``, the end
            token last.

        Raises
        ------
        ValueError
            If ``X`` and ``y`` hold different numbers of sequences.

        See Also
        --------
        predict_nbest : the best outputs with their log-probabilities.

        Examples
        --------
        >>> from sk_attention import AttentionSeq2Seq
        >>> X = ["abc", "bca", "cab", "acb", "bac", "cba"] * 20
        >>> model = AttentionSeq2Seq(
        ...     hidden_size=16, embedding_dim=8, max_epochs=20, lr=0.02,
        ...     validation_fraction=None, early_stopping=False,
        ...     random_state=0).fit(X, [x[::-1] for x in X])
        >>> right, wrong = model.score_samples(["abc", "abc"], ["cba", "abc"])
        >>> bool(right > wrong)
        True
        >>> model.score_samples(["abc"], ["cba"], per_token=True)[0].shape
        (4,)
        """
        check_is_fitted(self)
        X_items, y_items, _ = check_pairs(X, y)
        scored = []
        for start, chunk in self._chunks(X_items):
            source_ids = self._source_ids(chunk, start)
            target_tokens = tokenize_items(
                y_items[start : start + len(chunk)], self.target_tokenizer_, "y",
                start,
            )
            scored.extend(
                target_log_probs(
                    self.module_,
                    source_ids,
                    [self.target_vocab_.encode(tokens) for tokens in target_tokens],
                    batch_size=self.predict_batch_size,
                )
            )
        return total_log_probs(scored, per_token)

    def attention_weights(self, X, *, return_tokens=False, all_heads=False):
        """The attention of each predicted token over the source tokens.

        Each prediction is decoded as by :meth:`predict`, then the decoder is
        run once more over its own output to record, at every output step,
        the softmax weights over the source steps. For the Transformer these
        are the cross-attention weights of the last decoder layer, averaged
        over its heads.

        Parameters
        ----------
        X : sequence of str or of list of str
        return_tokens : bool, default=False
            Also return the source tokens and the predicted tokens.
        all_heads : bool, default=False
            Transformer only: return the cross-attention of every decoder
            layer and head, arrays of shape ``(num_layers, num_heads,
            n_output_tokens, n_source_tokens)``.

        Returns
        -------
        list of ndarray of shape (n_output_tokens, n_source_tokens)
            One array per sample; each row sums to 1. With
            ``return_tokens=True``, a list of ``(weights, source_tokens,
            output_tokens)`` tuples.
        """
        if all_heads and not ARCHITECTURES[self.architecture].attention_per_head:
            raise ValueError(
                "all_heads=True needs architecture='transformer'; the recurrent "
                "model has one attention per step."
            )
        check_is_fitted(self)
        X_items, _ = check_text_sequences(X, "X")
        results = []
        for start, chunk in self._chunks(X_items):
            source_tokens = self._source_tokens(chunk, start)
            source_ids = [self.source_vocab_.encode(t) for t in source_tokens]
            predicted = self._decode(source_ids)
            weights = forced_attention(
                self.module_,
                source_ids,
                predicted,
                batch_size=self.predict_batch_size,
                all_heads=all_heads,
            )
            if return_tokens:
                weights = [
                    (w, tokens, self.target_vocab_.decode(ids))
                    for w, tokens, ids in zip(weights, source_tokens, predicted)
                ]
            results.extend(weights)
        return results

