"""Argument checks shared by every package (no TensorFlow: `spnlab.graph` imports this)."""
import math
import numbers


def check_number(name, value, low=None, high=None, low_open=False):
    """A finite real number argument in `[low, high]` (`(low, high]` with `low_open`);
    returns it as a float. NaN, inf, bools and non-numbers are refused, naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected `{name}` to be a number. Received: {name}={value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        left = "(" if low_open else "["
        right = ")" if high is None else "]"
        span = f"in {left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"Expected `{name}` to be a finite number {span}. "
                         f"Received: {name}={value!r}")
    return value
