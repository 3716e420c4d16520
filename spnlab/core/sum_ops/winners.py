"""Choosing one child per sum: argmax with uniform tie-breaking, or a draw from the posterior.

Shared by the hard-EM, unweighted hard-EM and sampling sum ops so that the three never drift
apart. All functions take log-scores `[N, num_in]` (rows may contain `-inf`) and return int64
winners `[N]`.
"""
import tensorflow as tf

from spnlab.core.ops.logspace import is_finite, log_softmax_safe


def argmax_random_ties(scores, generator):
    """Index of the maximum of each row; ties are broken uniformly at random.

    A row of nothing but `-inf` (a sample the sum gives probability 0) ties everywhere and so
    gets a uniformly random child.
    """
    is_max = tf.equal(scores, tf.reduce_max(scores, axis=-1, keepdims=True))     # [N, I]
    noise = generator.uniform(tf.shape(scores), dtype=scores.dtype)             # [N, I]
    return tf.argmax(tf.where(is_max, noise, -tf.ones_like(noise)), axis=-1)


def sample_categorical(scores, generator):
    """One draw per row from Categorical(softmax(scores)) by the Gumbel-max trick."""
    log_p = log_softmax_safe(scores, axis=-1)                                   # [N, I]
    # An all -inf row has no distribution; fall back to uniform so a winner still exists.
    log_p = tf.where(is_finite(tf.reduce_max(log_p, -1, keepdims=True)),
                     log_p, tf.zeros_like(log_p))
    u = generator.uniform(tf.shape(scores), minval=1e-20, maxval=1.0, dtype=scores.dtype)
    gumbel = -tf.math.log(-tf.math.log(u))
    return tf.argmax(log_p + gumbel, axis=-1)


def draw_coins(generator, num_rows, sample_prob, dtype=tf.float32):
    """Per row: whether `select_winners` samples (True, with probability `sample_prob`)."""
    return generator.uniform([num_rows], dtype=dtype) < sample_prob


def select_winners(scores, generator, sample_prob, coins=None):
    """Argmax winners, each replaced by a posterior draw with probability `sample_prob`.

    Args:
        scores: log-scores `[N, num_in]`.
        generator: a `tf.random.Generator`.
        sample_prob: python float in [0, 1] or None (same as 0).
        coins: optional bool `[N]` from `draw_coins`, to share the sample-or-argmax choice
            between several calls (the factors of one product row).
    """
    if not sample_prob:
        return argmax_random_ties(scores, generator)
    if sample_prob >= 1.0:
        return sample_categorical(scores, generator)
    if coins is None:
        coins = draw_coins(generator, tf.shape(scores)[0], sample_prob, scores.dtype)
    return tf.where(coins, sample_categorical(scores, generator),
                    argmax_random_ties(scores, generator))
