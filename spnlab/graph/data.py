"""Checking data for a compiled graph (NumPy only): shape, evidence mask, values.

Data is `[batch, columns]` in the order of `plan.columns` (see `plan.Columns`): the data
variables, then optionally the latent variables. Bad data is a ValueError naming the argument,
the entry and its value (DESIGN.md section 7), never a silent NaN or -inf log-likelihood.
"""
from typing import NamedTuple

import numpy as np


class Data(NamedTuple):
    """Checked data: `x` float32 `[B, C + L]` (unobserved entries 0), `mask` bool `[B, C + L]`
    (True = observed; latent columns not given are unobserved), `width` the columns given."""

    x: np.ndarray
    mask: np.ndarray
    width: int


def expected_widths(columns):
    data, extra = len(columns.data), len(columns.latent)
    return (data, data + extra) if extra else (data,)


def _width_text(columns):
    names = ", ".join(v.name for v in columns.data)
    text = f"[batch, {len(columns.data)}] (columns {names})"
    if columns.latent:
        latent = ", ".join(v.name for v in columns.latent)
        text += f" or [batch, {len(columns.variables)}] (also the latent {latent})"
    return text


def check_data(columns, x, evidence_mask=None, arg="x"):
    """Validate `x` (and `evidence_mask`) against `columns`; returns `Data`.

    NaN is allowed only where `evidence_mask` is False. Observed values of discrete variables
    must be integers in `[0, num_vals)`.
    """
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == object or np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.number)
                                                       or x.dtype == bool):
        # complex: a cast to float would drop the imaginary part without a word
        raise TypeError(f"Expected `{arg}` to hold real numbers. Received: {arg}.dtype={x.dtype}")
    widths = expected_widths(columns)
    if x.ndim != 2 or x.shape[1] not in widths:
        raise ValueError(f"Expected `{arg}` of shape {_width_text(columns)}. "
                         f"Received: {arg}.shape={x.shape}")
    if evidence_mask is None:
        mask = np.ones(x.shape, bool)
    else:
        if hasattr(evidence_mask, "numpy"):
            evidence_mask = evidence_mask.numpy()
        mask = np.asarray(evidence_mask)
        if mask.dtype != bool:
            raise TypeError(f"Expected `evidence_mask` of dtype bool. "
                            f"Received: evidence_mask.dtype={mask.dtype}")
        if mask.shape != x.shape:
            raise ValueError(f"Expected `evidence_mask` of shape {x.shape} (as `{arg}`). "
                             f"Received: evidence_mask.shape={mask.shape}")
    values = x.astype(np.float64)
    bad = mask & ~np.isfinite(values)
    if bad.any():
        b, c = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"Expected finite `{arg}` values where observed. Received: "
                         f"{arg}[{b}, {c}]={x[b, c]} (variable {columns.variables[c].name})")
    values = np.where(mask, values, 0.0)
    for c, var in enumerate(columns.variables[:x.shape[1]]):
        if var.num_vals is None:
            continue
        column, observed = values[:, c], mask[:, c]
        wrong = observed & ((column != np.round(column)) | (column < 0) | (column >= var.num_vals))
        if wrong.any():
            b = int(np.argmax(wrong))
            raise ValueError(f"Expected `{arg}[:, {c}]` (variable {var.name}) to hold integers in "
                             f"[0, {var.num_vals}). Received: {arg}[{b}, {c}]={x[b, c]}")
    full = len(columns.variables)
    out = np.zeros((x.shape[0], full), np.float32)
    out_mask = np.zeros((x.shape[0], full), bool)
    out[:, :x.shape[1]] = values
    out_mask[:, :x.shape[1]] = mask
    return Data(out, out_mask, x.shape[1])
