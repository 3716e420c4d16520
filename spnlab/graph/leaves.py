"""Leaf nodes: indicators of discrete variables and univariate location-scale densities
(normal, Laplace, Cauchy) of continuous ones."""
import numpy as np

from spnlab.graph._checks import (as_float_array, check_finite, check_positive_int, read_only,
                                  short_repr)
from spnlab.graph.nodes import LeafNode
from spnlab.graph.variables import make_variables


class IndicatorLeaf(LeafNode):
    """Indicators `[X_v = k]` of `num_vars` discrete variables with `num_vals` values each.

    Outputs are var-major: output `v * num_vals + k` is `[X_v = k]` (`num_vars * num_vals`
    outputs). As in LibSPN the leaf has no parameters; an evaluator sets its value from evidence.

    Args:
        num_vars: number of variables (may be None when `variables` is given).
        num_vals: values per variable (may be None when `variables` are `Variable` objects).
        variables: None (fresh variables `X<k>`), or one `Variable` (shared with other leaves)
            or str name (a fresh variable of that name) per variable.
        name: node name; default `IndicatorLeaf_<k>`.
    """

    def __init__(self, num_vars=None, num_vals=None, variables=None, name=None):
        if num_vars is None and variables is not None and hasattr(variables, "__len__"):
            num_vars = len(variables)
        num_vars = check_positive_int(num_vars, "num_vars")
        if num_vals is None and variables is not None:
            found = {getattr(v, "num_vals", None) for v in variables}
            num_vals = found.pop() if len(found) == 1 else None
        num_vals = check_positive_int(num_vals, "num_vals")
        super().__init__(make_variables(variables, num_vars, num_vals), num_vals, name)

    @property
    def num_vals(self):
        return self.num_per_var

    def output_value(self, index):
        """The value k of output `index` = `[X_v = k]`."""
        return index % self.num_per_var

    def output_index(self, variable, value):
        """The output of `[variable = value]`."""
        for v, var in enumerate(self.variables):
            if var is variable:
                if not 0 <= value < self.num_vals:
                    raise ValueError(f"Expected `value` in [0, {self.num_vals}). "
                                     f"Received: value={value!r}")
                return v * self.num_vals + value
        raise ValueError(f"Expected `variable` to be a variable of {self!r}. "
                         f"Received: variable={variable!r}")

    def output_label(self, index):
        return f"{self.output_variable(index).name}={self.output_value(index)}"


FAMILIES = ("normal", "laplace", "cauchy")


class LocationScaleLeaf(LeafNode):
    """Univariate densities `f((x_v - loc[v, c]) / scale[v, c]) / scale[v, c]` of continuous
    variables, `f` the standard density of the family (`NormalLeaf`, `LaplaceLeaf`,
    `CauchyLeaf`; the TensorFlow half uses the core leaf layers' standard densities).

    Outputs are var-major: output `v * num_components + c` is component c of variable v; the
    parameters have shape `[num_vars, num_components]`, so `loc.reshape(-1)` is in output order.

    Args:
        num_vars: number of variables (may be None when `variables` is given).
        num_components: densities per variable.
        loc: broadcastable to `[num_vars, num_components]`; default: components spread evenly
            over [-1, 1] (0 for one component).
        scale: positive, broadcastable to `[num_vars, num_components]`; default 1.
        variables: as for `IndicatorLeaf`, but continuous (`Variable(num_vals=None)`).
        name: node name; default `<class>_<k>`.
    """

    family = None       # "normal", "laplace" or "cauchy"
    symbol = None       # label prefix in drawings

    def __init__(self, num_vars=None, num_components=1, loc=None, scale=None, variables=None,
                 name=None):
        if type(self) is LocationScaleLeaf:
            raise TypeError("LocationScaleLeaf is abstract: use NormalLeaf, LaplaceLeaf or "
                            "CauchyLeaf.")
        if num_vars is None and variables is not None and hasattr(variables, "__len__"):
            num_vars = len(variables)
        num_vars = check_positive_int(num_vars, "num_vars")
        num_components = check_positive_int(num_components, "num_components")
        super().__init__(make_variables(variables, num_vars, None), num_components, name)
        if loc is None:
            loc = np.linspace(-1.0, 1.0, num_components) if num_components > 1 else 0.0
        if scale is None:
            scale = 1.0
        self._loc = self._scale = None
        self.set_parameters(loc=loc, scale=scale)

    @property
    def num_components(self):
        return self.num_per_var

    @property
    def loc(self):
        """Read-only `[num_vars, num_components]` float64 locations (the modes)."""
        return self._loc

    @property
    def scale(self):
        """Read-only `[num_vars, num_components]` float64 scales."""
        return self._scale

    def set_parameters(self, loc=None, scale=None):
        """Replace `loc` and/or `scale` (validated, broadcast to `[num_vars, num_components]`)."""
        shape = (self.num_vars, self.num_components)
        new = {}
        for arg, value in (("loc", loc), ("scale", scale)):
            if value is None:
                continue
            array = check_finite(as_float_array(value, arg), arg)
            try:
                array = np.broadcast_to(array, shape)
            except ValueError:
                raise ValueError(f"Expected `{arg}` broadcastable to [num_vars, num_components]="
                                 f"{list(shape)}. Received: {arg}.shape={array.shape}") from None
            if arg == "scale" and np.any(array <= 0):
                raise ValueError(f"Expected positive `scale`. Received: scale={short_repr(array)}")
            new[arg] = read_only(array)
        self._loc = new.get("loc", self._loc)
        self._scale = new.get("scale", self._scale)

    def output_component(self, index):
        """The component c of output `index`."""
        return index % self.num_per_var

    def output_label(self, index):
        var = self.output_variable(index).name
        if self.num_components == 1:
            return f"{self.symbol}({var})"
        return f"{self.symbol}{self.output_component(index)}({var})"


class NormalLeaf(LocationScaleLeaf):
    """Normal densities N(x_v; loc[v, c], scale[v, c]) (scale = standard deviation); see
    `LocationScaleLeaf` for the arguments."""

    family, symbol = "normal", "N"


class LaplaceLeaf(LocationScaleLeaf):
    """Laplace densities `exp(-|x_v - loc| / scale) / (2 scale)`; see `LocationScaleLeaf`."""

    family, symbol = "laplace", "L"


class CauchyLeaf(LocationScaleLeaf):
    """Cauchy densities `1 / (pi scale (1 + ((x_v - loc) / scale)^2))`; see
    `LocationScaleLeaf`."""

    family, symbol = "cauchy", "C"
