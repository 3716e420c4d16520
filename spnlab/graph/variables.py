"""Random variables with a global identity: two leaves share a variable only if given the same
`Variable` object; names are labels for people and need not be unique."""
import itertools

from spnlab.graph._checks import check_name, check_positive_int, short_repr

_serials = itertools.count(1)


class Variable:
    """One random variable.

    Args:
        name: label used in scopes, messages and drawings; default `X<serial>` (`X1`, `X2`, ...
            in order of creation in this process).
        num_vals: number of values of a discrete variable (values `0..num_vals-1`), or None for a
            continuous variable.

    Identity is the object: `Variable("A") != Variable("A")`. Variables sort by creation order.
    """

    __slots__ = ("_name", "_num_vals", "_serial")

    def __init__(self, name=None, num_vals=None):
        self._serial = next(_serials)
        self._name = f"X{self._serial}" if name is None else check_name(name)
        self._num_vals = None if num_vals is None else check_positive_int(num_vals, "num_vals")

    @property
    def name(self):
        return self._name

    @property
    def num_vals(self):
        """Number of values (discrete), or None (continuous)."""
        return self._num_vals

    @property
    def is_discrete(self):
        return self._num_vals is not None

    def sort_key(self):
        return self._serial

    def __repr__(self):
        if self._num_vals is None:
            return f"Variable({self._name!r})"
        return f"Variable({self._name!r}, num_vals={self._num_vals})"

    def __str__(self):
        return self._name


def sorted_variables(variables):
    """Variables in creation order (stable output for messages and drawings)."""
    return sorted(variables, key=Variable.sort_key)


def make_variables(variables, num_vars, num_vals, arg="variables"):
    """The tuple of `num_vars` variables for a leaf.

    `variables` is None (fresh variables `X<serial>`), or a sequence of `Variable` objects
    (shared with other leaves) and/or str names (fresh variables with those names). Every
    variable must have `num_vals` values (None: continuous).
    """
    if variables is None:
        return tuple(Variable(num_vals=num_vals) for _ in range(num_vars))
    if isinstance(variables, (str, Variable)) or not hasattr(variables, "__iter__"):
        raise TypeError(f"Expected `{arg}` to be a sequence of Variable objects or names. "
                        f"Received: {arg}={short_repr(variables)}")
    variables = list(variables)
    if len(variables) != num_vars:
        raise ValueError(f"Expected `{arg}` to have num_vars={num_vars} entries. "
                         f"Received: len({arg})={len(variables)}")
    result = []
    for i, var in enumerate(variables):
        if isinstance(var, str):
            var = Variable(check_name(var, f"{arg}[{i}]"), num_vals=num_vals)
        elif not isinstance(var, Variable):
            raise TypeError(f"Expected `{arg}[{i}]` to be a Variable or a str name. "
                            f"Received: {arg}[{i}]={short_repr(var)}")
        if var.num_vals != num_vals:
            want = "a continuous variable" if num_vals is None else \
                f"a discrete variable with num_vals={num_vals}"
            raise ValueError(f"Expected `{arg}[{i}]` to be {want}. Received: {arg}[{i}]={var!r}")
        result.append(var)
    if len(set(map(id, result))) != len(result):
        raise ValueError(f"Expected distinct variables in `{arg}`. "
                         f"Received: {arg}={short_repr(result)}")
    return tuple(result)
