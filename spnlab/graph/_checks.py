"""Argument checks shared by the graph package (DESIGN.md section 7: errors name the argument
and the received value)."""
import numbers

import numpy as np


def short_repr(value, limit=120):
    """`repr(value)`, cut to `limit` characters (arrays print compactly)."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=20, precision=4)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_int(value):
    """True for Python and numpy integers, False for bools."""
    if type(value) is int:  # the common case, fast
        return True
    return isinstance(value, (numbers.Integral, np.integer)) and \
        not isinstance(value, (bool, np.bool_))


def check_positive_int(value, arg):
    """Return `value` as int; TypeError for a non-int, ValueError for an int below 1."""
    if not is_int(value):
        raise TypeError(f"Expected `{arg}` to be a positive int. "
                        f"Received: {arg}={short_repr(value)}")
    if value < 1:
        raise ValueError(f"Expected `{arg}` to be a positive int. Received: {arg}={value!r}")
    return int(value)


def check_name(value, arg="name"):
    """Return `value` if it is a non-empty str."""
    if not isinstance(value, str):
        raise TypeError(f"Expected `{arg}` to be a non-empty str. "
                        f"Received: {arg}={short_repr(value)}")
    if not value:
        raise ValueError(f"Expected `{arg}` to be a non-empty str. Received: {arg}=''")
    return value


def as_float_array(value, arg):
    """`value` as a float64 numpy array; TypeError when it is not numeric."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"Expected `{arg}` to be an array of numbers. "
                        f"Received: {arg}={short_repr(value)}") from None
    return array


def check_finite(array, arg):
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Expected finite `{arg}`. Received: {arg}={short_repr(array)}")
    return array


def read_only(array):
    """A read-only float64 copy, so parameters change only through validating setters."""
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array
