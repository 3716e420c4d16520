"""The session's settings: one typed, serialisable dataclass, with classroom presets.

Settings fall in two groups (as in TensorFlow Playground): structural ones rebuild the model and
data (`Session.rebuild`), live ones apply between steps (`Session.update_config`). Sum ops are
switched with `Session.set_sum_op`, which keeps `sum_op` / `layer_sum_ops` up to date.
"""
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Optional, Union

from spnlab.lab.ops import canonical_spec

# Structures learned from the data by a `spnlab.structure` learner (see `spnlab.lab.learned`).
LEARNED_STRUCTURES = ("learnspn", "learnspn_clt", "hclt")
STRUCTURES = ("ratspn", "poon_domingos", "dgcspn", "example") + LEARNED_STRUCTURES + ("custom",)
# Besides these, `dataset` may name a benchmark in `data_dir` (`<data_dir>/<name>/<name>.
# {train,valid,test}.data`, e.g. the density-estimation benchmarks "nltcs", "plants", ...).
DATASETS = ("digits", "digits_grey", "example", "custom")
IMAGE_DATASETS = ("digits", "digits_grey")                 # the bundled 8x8 images
LEAVES = ("indicator", "categorical", "normal")             # see spnlab.lab.build.input_layers
EXAMPLES = ("poon_domingos", "naive_bayes", "random")      # see spnlab.lab.examples
GRADIENT_OPTIMIZERS = ("adam", "sgd")
STRUCTURAL_FIELDS = ("structure", "leaf", "depth", "num_repetitions", "num_input_distributions",
                     "num_sums", "init_alpha", "image_shape", "region_resolution", "example",
                     "example_vars", "num_examples", "dataset", "binarize_threshold",
                     "test_fraction", "seed", "learner_options", "data_dir")
RATSPN_FIELDS = ("leaf", "depth", "num_repetitions", "num_input_distributions", "num_sums",
                 "init_alpha")
POON_DOMINGOS_FIELDS = ("leaf", "image_shape", "region_resolution", "num_input_distributions",
                        "num_sums", "init_alpha")
DGCSPN_FIELDS = ("leaf", "image_shape", "num_input_distributions", "num_sums", "init_alpha")
EXAMPLE_FIELDS = ("example", "example_vars", "num_examples", "num_sums", "init_alpha")
# The settings each hand-built example reads (of `example_vars` and `num_sums`).
EXAMPLE_SIZES = {"poon_domingos": (), "naive_bayes": ("example_vars", "num_sums"),
                 "random": ("example_vars",)}
# The size settings each built-in structure uses (the others are kept but ignored).
LEARNED_FIELDS = ("learner_options",)
STRUCTURE_FIELDS = {"ratspn": RATSPN_FIELDS, "poon_domingos": POON_DOMINGOS_FIELDS,
                    "dgcspn": DGCSPN_FIELDS, "example": EXAMPLE_FIELDS,
                    **{name: LEARNED_FIELDS for name in LEARNED_STRUCTURES}}
DIGITS_FIELDS = ("binarize_threshold",)
LIVE_FIELDS = ("batch_size", "em_learning_rate", "accumulate_batches", "gradient_optimizer",
               "gradient_learning_rate", "test_every", "taps")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"Expected `{name}` to be {kind}. Received: {name}={value!r}")


def _check_number(name, value, low, high, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Expected `{name}` to be a number. Received: {name}={value!r}")
    if not math.isfinite(value) or (value <= low if low_open else value < low) or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"Expected `{name}` in {bracket}{low}, {high}]. "
                         f"Received: {name}={value!r}")


def _check_image_shape(value):
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
            or value[0] * value[1] < 2):
        raise ValueError("Expected `image_shape` to be (rows, cols), two positive ints with at "
                         f"least 2 pixels. Received: image_shape={value!r}")
    return tuple(value)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"Expected `{name}` in {choices}. Received: {name}={value!r}")


@dataclass
class TapSettings:
    """Which per-layer signals a training step records (see `taps.py`).

    Attributes:
        enabled: record taps at all; off compiles a step without any of it (zero cost).
        layers: layer keys to tap (`"leaf"`, `"S1"`, `"P1"`, ...); None taps the leaf and every
            sum layer (and every product layer when `products`). Naming a product layer runs
            the model unfused, as `products` does.
        products: run the model unfused (`DenseProduct` and `DenseSum` one by one) so product
            layers can be tapped; slower than the fused pass.
        capacity: steps kept in the ring buffer.
        bins: histogram bins of the forward log-values.
        dead_window: K, the number of recent steps over which a child never chosen is "dead".
        values: also keep each tapped layer's raw forward log-values `[B, ...]` (tests,
            debugging); only the newest record in the buffer keeps them.
    """

    enabled: bool = True
    layers: Optional[list] = None
    products: bool = False
    capacity: int = 200
    bins: int = 20
    dead_window: int = 20
    values: bool = False

    def __post_init__(self):
        for name in ("enabled", "products", "values"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"Expected `taps.{name}` to be a bool. "
                                f"Received: taps.{name}={getattr(self, name)!r}")
        if self.layers is not None:
            if isinstance(self.layers, str) or not all(isinstance(k, str) for k in self.layers):
                raise TypeError("Expected `taps.layers` to be None or a list of layer keys. "
                                f"Received: taps.layers={self.layers!r}")
            self.layers = list(self.layers)
        _check_int("taps.capacity", self.capacity, 1)
        _check_int("taps.bins", self.bins, 1)
        _check_int("taps.dead_window", self.dead_window, 1)


@dataclass
class SessionConfig:
    """Everything that defines a session; `to_dict()` / `from_dict()` round-trip through JSON.

    Structure: "ratspn" (`depth`, `num_repetitions`, `num_input_distributions`, `num_sums`) or
    "poon_domingos" (Poon & Domingos' rectangle regions over `image_shape` pixels, the whole
    image cut on a `region_resolution`-pixel grid, `num_input_distributions` per pixel,
    `num_sums` per region; see `spnlab.lab.build.build_poon_domingos`), "dgcspn" (a
    convolutional DGC-SPN over `image_shape`, `num_input_distributions` per pixel, `num_sums`
    per position; see `spnlab.lab.build.build_dgcspn`) or "example" (a
    hand-built teaching graph `example` in `EXAMPLES`, learned from `num_examples` samples of
    itself, `dataset="example"`; `example_vars` and `num_sums` size the "naive_bayes" and
    "random" ones; see `spnlab.lab.examples`); initial sum weights ~ Dirichlet(`init_alpha`)
    from `seed`. The built-in image structures read each pixel with `leaf` input distributions:
    "indicator" (indicators and a sum, learned by the sum ops), "categorical" (categorical
    leaves, learned by EM) or "normal" (Gaussian leaves of the grey levels, learned by EM).
    Data: `dataset` ("digits": scikit-learn's bundled 8x8 digits, pixels >= `binarize_threshold`
    (of 16) set to 1; "digits_grey": their 17 grey levels 0..16), `test_fraction`. Training:
    `batch_size`, `sum_op` for every sum layer with per-layer overrides in `layer_sum_ops` (keys
    `"S1"`, ...), online EM with `em_learning_rate` and
    `accumulate_batches` for layers with EM ops, `gradient_optimizer` ("adam" / "sgd") with
    `gradient_learning_rate` for the rest, test log-likelihood every `test_every` steps (0: never).
    Learned structures: "learnspn", "learnspn_clt" (Chow-Liu-tree leaves) and "hclt" learn the
    structure from the training rows (`spnlab.structure`, its arguments in `learner_options`,
    e.g. `{"min_instances_slice": 100}`, seeded by `seed`), holding out `test_fraction` of
    them for validation unless the data set has its own validation rows; see
    `spnlab.lab.learned`. A `dataset` other than the names above is a benchmark read from
    `data_dir` (`<data_dir>/<name>/<name>.{train,valid,test}.data`).
    "custom" structure / dataset mark a model or data passed to the session directly.
    """

    structure: str = "ratspn"
    leaf: str = "indicator"
    depth: int = 3
    num_repetitions: int = 4
    num_input_distributions: int = 4
    num_sums: int = 4
    init_alpha: float = 1.0
    image_shape: tuple = (8, 8)
    region_resolution: int = 4
    example: str = "poon_domingos"
    example_vars: int = 6
    num_examples: int = 1000
    dataset: str = "digits"
    binarize_threshold: int = 8
    test_fraction: float = 0.2
    seed: int = 0
    batch_size: int = 64
    sum_op: Union[str, dict, None] = "em"
    layer_sum_ops: dict = field(default_factory=dict)
    em_learning_rate: float = 0.05
    accumulate_batches: int = 1
    gradient_optimizer: str = "adam"
    gradient_learning_rate: float = 0.05
    test_every: int = 10
    taps: TapSettings = field(default_factory=TapSettings)
    learner_options: dict = field(default_factory=dict)
    data_dir: Optional[str] = None

    def __post_init__(self):
        _check_choice("structure", self.structure, STRUCTURES)
        for name in ("depth", "num_repetitions", "num_input_distributions", "num_sums",
                     "region_resolution", "batch_size", "accumulate_batches"):
            _check_int(name, getattr(self, name), 1)
        _check_int("seed", self.seed, 0)
        _check_int("test_every", self.test_every, 0)
        _check_int("binarize_threshold", self.binarize_threshold, 1)
        _check_number("init_alpha", self.init_alpha, 0, float("inf"), low_open=True)
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise TypeError(f"Expected `data_dir` to be None or a directory (str). "
                            f"Received: data_dir={self.data_dir!r}")
        if self.data_dir is None or not isinstance(self.dataset, str) or not self.dataset:
            _check_choice("dataset", self.dataset, DATASETS)
        if not isinstance(self.learner_options, dict) or \
                not all(isinstance(k, str) for k in self.learner_options):
            raise TypeError("Expected `learner_options` to be a dict of learner arguments. "
                            f"Received: learner_options={self.learner_options!r}")
        self.learner_options = dict(self.learner_options)
        if self.structure in LEARNED_STRUCTURES and self.dataset == "example":
            raise ValueError(f"Expected data to learn the structure {self.structure!r} from "
                             f"(digits, a benchmark, your own). Received: dataset='example'")
        _check_choice("leaf", self.leaf, LEAVES)
        if self.leaf == "normal" and self.dataset == "digits":
            raise ValueError("Expected continuous data for normal leaves: the grey digits "
                             "(dataset='digits_grey') or your own. Received: leaf='normal', "
                             "dataset='digits' (binarised)")
        _check_choice("example", self.example, EXAMPLES)
        _check_int("example_vars", self.example_vars, 1)
        _check_int("num_examples", self.num_examples, 2)
        if (self.structure == "example") != (self.dataset == "example"):
            raise ValueError("Expected structure='example' together with dataset='example' (a "
                             "teaching example learns from its own samples). Received: "
                             f"structure={self.structure!r}, dataset={self.dataset!r}")
        self.image_shape = _check_image_shape(self.image_shape)
        if (self.structure in ("poon_domingos", "dgcspn") and self.dataset in IMAGE_DATASETS
                and self.image_shape != (8, 8)):
            raise ValueError("Expected `image_shape` (8, 8) for the digits. "
                             f"Received: image_shape={self.image_shape!r}")
        _check_number("test_fraction", self.test_fraction, 0, 0.9)
        _check_number("em_learning_rate", self.em_learning_rate, 0, 1, low_open=True)
        _check_number("gradient_learning_rate", self.gradient_learning_rate, 0, float("inf"),
                      low_open=True)
        _check_choice("gradient_optimizer", self.gradient_optimizer, GRADIENT_OPTIMIZERS)
        if self.sum_op is not None:
            self.sum_op = canonical_spec(self.sum_op, "sum_op")
        if not isinstance(self.layer_sum_ops, dict):
            raise TypeError("Expected `layer_sum_ops` to be a dict of layer key -> sum op. "
                            f"Received: layer_sum_ops={self.layer_sum_ops!r}")
        self.layer_sum_ops = {str(k): canonical_spec(v, f"layer_sum_ops[{k!r}]")
                              for k, v in self.layer_sum_ops.items()}
        if isinstance(self.taps, dict):
            self.taps = TapSettings(**self.taps)
        if not isinstance(self.taps, TapSettings):
            raise TypeError("Expected `taps` to be a TapSettings or dict. "
                            f"Received: taps={self.taps!r}")

    def to_dict(self):
        """A plain dict of JSON types."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Inverse of `to_dict`; unknown keys are an error (a typo must not pass silently)."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected `config` to be a dict. Received: config={data!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown config keys {unknown}; known keys are {sorted(known)}.")
        return cls(**data)

    @classmethod
    def preset(cls, name, **overrides):
        """A classroom preset (see `PRESETS`) with optional overrides."""
        if name not in PRESETS:
            raise ValueError(f"Expected `name` in {sorted(PRESETS)}. Received: name={name!r}")
        return cls.from_dict({**PRESETS[name], **overrides})

    def replace(self, **changes):
        """A copy with `changes` applied (validated)."""
        return self.from_dict({**self.to_dict(), **changes})


PRESETS = {
    # The default: a RAT-SPN of ~3,600 weights on the 64 binarised digit pixels, soft EM.
    "digits": {},
    # Small and fast, for a first look at a step.
    "classroom": {"depth": 2, "num_repetitions": 2, "num_input_distributions": 2,
                  "num_sums": 2, "batch_size": 32},
    # Weighted hard EM self-amplifies: watch entropy fall and dead children appear.
    "hard_em": {"sum_op": "hard_em", "em_learning_rate": 0.1},
    # The unweighted variant chooses winners without the weights.
    "unweighted_hard_em": {"sum_op": "unweighted_hard_em", "em_learning_rate": 0.1},
    "gradient": {"sum_op": "grad", "gradient_optimizer": "adam", "gradient_learning_rate": 0.05},
    # Poon & Domingos' rectangle regions: the root mixes the cuts of the image on a 4-pixel
    # grid (~9,000 weights, ~15 ms a step with taps on a 2-core CPU); region_resolution 2
    # gives 6 cuts (~52,000 weights, ~40 ms), 1 all 14 (~120,000, ~50 ms).
    "poon_domingos": {"structure": "poon_domingos", "region_resolution": 4},
    # Convolutional: a DGC-SPN over the 8x8 image (Local2DSum / Conv2DProduct layers).
    "dgcspn": {"structure": "dgcspn"},
    # Hand-built: learn the Poon-Domingos example from 1,000 samples of itself.
    "example": {"structure": "example", "dataset": "example", "example": "poon_domingos",
                "batch_size": 50, "test_every": 5},
}


def as_config(config=None, **overrides):
    """A `SessionConfig` from None (defaults), a preset name, a dict or a config, plus overrides."""
    if config is None:
        return SessionConfig.from_dict(overrides)
    if isinstance(config, str):
        return SessionConfig.preset(config, **overrides)
    if isinstance(config, dict):
        return SessionConfig.from_dict({**config, **overrides})
    if isinstance(config, SessionConfig):
        return config.replace(**overrides)
    raise TypeError("Expected `config` to be None, a preset name, a dict or a SessionConfig. "
                    f"Received: config={config!r}")
