"""Text pieces of DOT output: quoting and escaping, attribute lists, numbers, scopes, and the
fill colour scale. Pure functions, shared by `dot.py`'s views."""
import math
import numbers
from typing import NamedTuple

from spnlab.graph.variables import sorted_variables

SEQUENTIAL = ((247, 251, 255), (8, 48, 107))                 # light -> dark blue
DIVERGING = ((33, 102, 172), (255, 255, 255), (178, 24, 43))  # blue < 0 < red


# -- escaping --------------------------------------------------------------------------------
def escape(text):
    """Text for a DOT double-quoted string, shown literally (backslashes and quotes escaped)."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def quote(text):
    return f'"{escape(text)}"'


def record_text(text):
    """Text for one field of a record label (also escapes the record syntax `{}|<>`)."""
    text = escape(text)
    for char in "{}|<>":
        text = text.replace(char, "\\" + char)
    return text


class Raw(NamedTuple):
    """An attribute value written as is (already quoted/escaped)."""

    text: str


def attrs(**attrs):
    """`[k=v, ...]`; values are quoted unless they are numbers; `None` values are left out."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, Raw):
            parts.append(f"{key}={value.text}")
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            parts.append(f"{key}={value:g}")
        else:
            parts.append(f"{key}={quote(value)}")
    return " [" + ", ".join(parts) + "]" if parts else ""


# -- formatting ------------------------------------------------------------------------------
def number(x, precision):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x + 0.0:.{precision}f}"                  # + 0.0: no "-0.00" for -0.0


def scope_text(scope, limit):
    names = [v.name for v in sorted_variables(scope)]
    if len(names) > limit:
        names = names[:limit - 1] + ["…", names[-1]]
        return "{" + ", ".join(names) + f"}} ({len(scope)} variables)"
    return "{" + ", ".join(names) + "}"


def colour(t, diverging):
    """Hex colour for t in [0, 1] (sequential) or [-1, 1] (diverging); and its font colour."""
    if diverging:
        low, mid, high = DIVERGING
        a, b, u = (mid, high, t) if t >= 0 else (mid, low, -t)
    else:
        (a, b), u = SEQUENTIAL, t
    rgb = [round(x + (y - x) * u) for x, y in zip(a, b)]
    luminance = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255
    return "#%02x%02x%02x" % tuple(rgb), ("white" if luminance < 0.5 else "black")


class ColourScale:
    """Maps finite numbers to fill colours: sequential over [min, max], or diverging around 0
    when both signs occur. Non-finite numbers get no fill."""

    def __init__(self, numbers_, label, precision):
        finite = [x for x in numbers_ if math.isfinite(x)]
        self.low, self.high = (min(finite), max(finite)) if finite else (0.0, 0.0)
        self.diverging = self.low < 0 < self.high
        self.bound = max(abs(self.low), abs(self.high))
        if self.diverging:
            self.legend = (f"fill: {label}, blue < 0 < red, |max| = "
                           f"{number(self.bound, precision)}")
        else:
            self.legend = (f"fill: {label} from {number(self.low, precision)} (light) to "
                           f"{number(self.high, precision)} (dark)")

    def __call__(self, x):
        if x is None or not math.isfinite(x):
            return None, None
        if self.diverging:
            return colour(x / self.bound, True)
        span = self.high - self.low
        return colour((x - self.low) / span if span > 0 else 1.0, False)


def no_fill(x):
    return None, None
