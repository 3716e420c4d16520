"""Choose a structure and its sizes, the data seed, and build: structural changes start over."""
import ipywidgets as widgets

from spnlab.lab.config import (EXAMPLE_SIZES, EXAMPLES, LEARNED_STRUCTURES, LEAVES,
                               STRUCTURE_FIELDS)
from spnlab.lab.ops import label_name
from spnlab.widgets._base import SessionView
from spnlab.widgets.clock import BrowserClock

STRUCTURE_CHOICES = [("RAT-SPN", "ratspn"), ("Poon-Domingos", "poon_domingos"),
                     ("DGC-SPN (convolutional)", "dgcspn"), ("hand-built example", "example"),
                     ("learned: LearnSPN", "learnspn"),
                     ("learned: LearnSPN, Chow-Liu leaves", "learnspn_clt"),
                     ("learned: hidden Chow-Liu tree", "hclt")]
IMAGE_DATA = [("binarised digits", "digits"), ("grey digits (0..16)", "digits_grey")]
# The learners' settings the builder offers: (name, default, low, high, the learners using it).
LEARNER_FIELDS = (("min_instances_slice", 200, 2, 10 ** 7, ("learnspn", "learnspn_clt")),
                  ("num_latent_states", 16, 1, 1024, ("hclt",)))
# Labels that fit their 130 px (the config names are in the tooltips).
FIELD_LABELS = {"depth": "depth", "num_repetitions": "repetitions",
                "region_resolution": "region grid (px)", "num_input_distributions": "leaves / var",
                "num_sums": "sums / region", "example_vars": "variables",
                "num_examples": "samples", "seed": "seed",
                "min_instances_slice": "min rows / slice", "num_latent_states": "hidden states"}


class BuilderView(SessionView):
    """The structure (RAT-SPN, Poon-Domingos, DGC-SPN, or a hand-built teaching example), its
    sizes, and the seed.

    Only the sizes the chosen structure uses are shown (RAT-SPN: depth, repetitions, input
    distributions, sums per region; Poon-Domingos: region resolution, input distributions, sums
    per region; DGC-SPN: input distributions per pixel, sums per position; example: which
    example, its variables and components, the number of samples it generates; learned
    structures: LearnSPN's minimum slice size, HCLT's number of hidden states). Build calls
    `session.rebuild(...)` with the changed settings, which starts training over with the new
    structure; every other view redraws on the session's "reset"
    event. A session on a custom model shows its structure and only the seed can change.

    Data: the bundled digits, the benchmarks in the config's `data_dir` (e.g. nltcs, plants),
    or the user's data the session was given. With `on_learn` (the workbench's structure mode)
    a Build of a learned structure calls `on_learn(changes)` instead, which steps the learner
    on screen and hands the structure over with `rebuild` when it is done.
    """

    FIELDS = (("depth", 1, 8), ("num_repetitions", 1, 64), ("region_resolution", 1, 64),
              ("num_input_distributions", 1, 64), ("num_sums", 1, 64), ("example_vars", 1, 16),
              ("num_examples", 2, 100_000), ("seed", 0, 2 ** 31 - 1))

    def __init__(self, session, on_learn=None, **kwargs):
        self.on_learn = on_learn
        cfg = session.config
        custom = [] if cfg.structure in STRUCTURE_FIELDS else [("custom model", cfg.structure)]
        self.structure = widgets.Dropdown(options=STRUCTURE_CHOICES + custom,
                                          value=cfg.structure, description="structure",
                                          disabled=bool(custom),
                                          style={"description_width": "130px"},
                                          layout={"width": "300px"})
        self.fields = {name: widgets.BoundedIntText(getattr(cfg, name), min=low, max=high,
                                                    description=FIELD_LABELS[name],
                                                    description_tooltip=name,
                                                    style={"description_width": "130px"},
                                                    layout={"width": "230px"})
                       for name, low, high in self.FIELDS}
        style = {"style": {"description_width": "130px"}, "layout": {"width": "300px"}}
        self.example = widgets.Dropdown(options=list(EXAMPLES), value=cfg.example,
                                        description="example", **style)
        self.leaf = widgets.Dropdown(options=list(LEAVES), value=cfg.leaf, description="leaves",
                                     **style)
        self.learner_fields = {
            name: widgets.BoundedIntText(cfg.learner_options.get(name, default), min=low,
                                         max=high, description=FIELD_LABELS[name],
                                         description_tooltip=name,
                                         style={"description_width": "130px"},
                                         layout={"width": "230px"})
            for name, default, low, high, _ in LEARNER_FIELDS}
        self.dataset = widgets.Dropdown(options=_data_choices(cfg), value=cfg.dataset,
                                        description="data", disabled=cfg.dataset == "custom",
                                        **style)
        self.build = widgets.Button(description="Build", icon="cubes", button_style="primary")
        self.summary = widgets.HTML()
        self.clock = BrowserClock()                   # "building the model..." while it builds
        super().__init__(session, [
            widgets.HBox([self.structure, self.example, self.dataset, self.leaf, self.build,
                          self.clock],
                         layout={"flex_flow": "row wrap"}),
            widgets.HBox(list(self.fields.values()) + list(self.learner_fields.values()),
                         layout={"flex_flow": "row wrap"}),
            self.summary], events=("reset",), **kwargs)
        self.structure.observe(lambda _: self._show_fields(), "value")
        self.example.observe(lambda _: self._show_fields(), "value")
        self.build.on_click(lambda _: self.guarded(self._on_build))
        self.refresh()

    def _shown(self):
        """The fields the chosen structure (and example) uses, and the seed."""
        shown = set(STRUCTURE_FIELDS.get(self.structure.value, ())) | {"seed"}
        if self.structure.value == "example":
            shown -= set(EXAMPLE_SIZES["naive_bayes"]) - set(EXAMPLE_SIZES[self.example.value])
        return shown

    def _show_fields(self):
        shown = self._shown()
        for name, field in self.fields.items():
            field.layout.display = None if name in shown else "none"
        self.example.layout.display = None if "example" in shown else "none"
        self.leaf.layout.display = None if "leaf" in shown else "none"
        self.dataset.layout.display = "none" if "example" in shown else None
        for name, default, low, high, learners in LEARNER_FIELDS:
            self.learner_fields[name].layout.display = (None if self.structure.value in learners
                                                        else "none")

    def _learner_options(self):
        """The learner options for the chosen structure: the builder's fields, and the
        config's other options when the learner stays the same."""
        cfg, structure = self.session.config, self.structure.value
        options = dict(cfg.learner_options) if structure == cfg.structure else {}
        for name, default, low, high, learners in LEARNER_FIELDS:
            if structure in learners:
                options[name] = int(self.learner_fields[name].value)
        return options

    def _on_build(self):
        cfg = self.session.config
        changes = {name: int(field.value) for name, field in self.fields.items()
                   if name in self._shown() and int(field.value) != getattr(cfg, name)}
        if self.structure.value != cfg.structure:
            changes["structure"] = self.structure.value
        # An example brings its own samples; the image structures read the chosen digits.
        dataset = "example" if self.structure.value == "example" else self.dataset.value
        if dataset == "example" and self.structure.value != "example":
            dataset = "digits"
        if dataset != cfg.dataset:
            changes["dataset"] = dataset
        for name, control in (("example", self.example), ("leaf", self.leaf)):
            if name in self._shown() and control.value != getattr(cfg, name):
                changes[name] = control.value
        if self.structure.value in LEARNED_STRUCTURES:
            options = self._learner_options()
            if options != cfg.learner_options:
                changes["learner_options"] = options
            if self.on_learn is not None:
                with self.clock.busy_while("preparing the learner"):
                    self.on_learn(changes)
                return
        with self.clock.busy_while("building the model"):
            self.session.rebuild(**changes)

    def refresh(self):
        s = self.session
        layers = s.layers
        weights = sum(l["num_weights"] for l in layers)
        cfg = s.config
        structure = cfg.structure
        if structure == "poon_domingos":
            rows, cols = cfg.image_shape
            structure += f" ({rows}x{cols} image, {cfg.region_resolution}-pixel grid)"
        elif structure == "example":
            structure = f"the {cfg.example} example"
        elif structure in LEARNED_STRUCTURES:
            run = s.structure_run
            label = {value: text for text, value in STRUCTURE_CHOICES}[structure]
            structure = f"{label.split(': ')[1]} ({len(run.decisions)} learner decisions)"
        leaves = (f", {cfg.leaf} leaves" if "leaf" in STRUCTURE_FIELDS.get(cfg.structure, ())
                  else "")
        self.summary.value = (f"{structure} on {cfg.dataset}{leaves}: {s.data.num_vars} "
                              f"variables, "
                              f"{len(s.data.train)} train / {len(s.data.test)} test rows, "
                              f"{len(layers)} layers, {weights:,} parameters; trains with "
                              f"{_ops_text(s.sum_ops)} (a Build keeps the sum ops; change them "
                              f"under Train)")
        self.structure.value = cfg.structure
        self.example.value = cfg.example
        self.leaf.value = cfg.leaf
        choices = _data_choices(cfg)
        if list(self.dataset.options) != choices:
            self.dataset.options = choices
        self.dataset.value = cfg.dataset
        for name, field in self.fields.items():
            field.value = getattr(cfg, name)
        for name, default, low, high, learners in LEARNER_FIELDS:
            if cfg.structure in learners:
                self.learner_fields[name].value = cfg.learner_options.get(name, default)
        self._show_fields()


def _data_choices(cfg):
    """The data sets to offer: the digits, the benchmarks in `cfg.data_dir`, and the
    session's own data set when it is none of those."""
    choices = list(IMAGE_DATA)
    if cfg.data_dir is not None:
        from spnlab.structure import debd_names
        try:
            choices += [(f"{name} (benchmark)", name) for name in debd_names(cfg.data_dir)]
        except (OSError, ValueError):
            pass                        # a missing directory: Build with it names the files
    if cfg.dataset not in [value for _, value in choices]:
        choices.append((cfg.dataset, cfg.dataset))
    return choices


def _ops_text(ops):
    """"em" when every layer uses em, else "S1 em, S2 hard_em, ..."."""
    names = {key: label_name(op) for key, op in ops.items()}
    if len(set(names.values())) == 1:
        return next(iter(names.values()))
    return ", ".join(f"{key} {name}" for key, name in names.items())
