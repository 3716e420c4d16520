"""Evidence masks for completions and marginals (True = observed), by name.

Image masks ("top", "bottom", "left", "right" halves hidden) need the data's image shape;
"random" hides a fraction of the variables with a seeded generator; "none" hides nothing and
"all" hides everything.
"""
import math
import numbers

import numpy as np

from spnlab._args import check_number

MASKS = ("none", "all", "top", "bottom", "left", "right", "random")
IMAGE_MASKS = ("top", "bottom", "left", "right")


def masks_for(image_shape):
    """The mask kinds that apply to data of `image_shape` (None: no images, no half-image
    masks)."""
    return MASKS if image_shape is not None else tuple(m for m in MASKS if m not in IMAGE_MASKS)


def evidence_mask(kind, num_rows, num_vars, image_shape=None, hidden_fraction=0.5, seed=0):
    """A bool mask `[num_rows, num_vars]`, True where the variable is observed.

    Args:
        kind: one of `MASKS`; the named half is the hidden (unobserved) part.
        image_shape: `(rows, cols)` with rows * cols = num_vars, for the half-image masks.
        hidden_fraction: for "random", the fraction of variables hidden in every row.
        seed: for "random".
    """
    if kind not in MASKS:
        raise ValueError(f"Expected `kind` in {MASKS}. Received: kind={kind!r}")
    for name, value in (("num_rows", num_rows), ("num_vars", num_vars)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"Expected `{name}` to be a positive int. Received: {name}={value!r}")
    if kind in ("none", "all"):
        return np.full((num_rows, num_vars), kind == "none")
    if kind == "random":
        check_number("hidden_fraction", hidden_fraction, low=0.0, high=1.0)
        rng = np.random.default_rng(seed)
        return rng.random((num_rows, num_vars)) >= hidden_fraction
    if image_shape is None or int(np.prod(image_shape)) != num_vars:
        raise ValueError(f"Expected `image_shape` with {num_vars} pixels for the {kind!r} mask. "
                         f"Received: image_shape={image_shape!r}")
    rows, cols = image_shape
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    hidden = {"top": r < rows // 2, "bottom": r >= rows // 2,
              "left": c < cols // 2, "right": c >= cols // 2}[kind]
    return np.broadcast_to(~hidden.reshape(-1), (num_rows, num_vars)).copy()


def evidence_from_dict(evidence, num_vars, dtype=np.int32):
    """`(x [1, V], mask [1, V])` from `{variable index: value}` (e.g. clicked pixels)."""
    if not isinstance(evidence, dict):
        raise TypeError(f"Expected `evidence` to be a dict of variable -> value. "
                        f"Received: evidence={evidence!r}")
    x = np.zeros((1, num_vars), dtype=dtype)
    mask = np.zeros((1, num_vars), dtype=bool)
    for var, value in evidence.items():
        if isinstance(var, bool) or not isinstance(var, (int, np.integer)) \
                or not 0 <= var < num_vars:
            raise ValueError(f"Expected evidence variables in [0, {num_vars}). Received: {var!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or \
                (np.issubdtype(dtype, np.integer) and value != round(value)):
            kind = "an integer" if np.issubdtype(dtype, np.integer) else "a finite number"
            raise ValueError(f"Expected the value of variable {var} to be {kind}. "
                             f"Received: evidence[{var!r}]={value!r}")
        x[0, var] = value
        mask[0, var] = True
    return x, mask
