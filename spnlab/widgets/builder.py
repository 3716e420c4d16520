"""Choose a structure and its sizes, the data seed, and build: structural changes start over."""
import ipywidgets as widgets

from spnlab.lab.config import EXAMPLES, STRUCTURE_FIELDS
from spnlab.widgets._base import SessionView

STRUCTURE_CHOICES = [("RAT-SPN", "ratspn"), ("Poon-Domingos", "poon_domingos"),
                     ("DGC-SPN (convolutional)", "dgcspn"), ("hand-built example", "example")]
# The data a switch to a built-in structure brings: an example's own samples; leaving an
# example, the digits. (Other switches keep the session's data.)
DATASET_OF = {"ratspn": "digits", "poon_domingos": "digits", "dgcspn": "digits",
              "example": "example"}


class BuilderView(SessionView):
    """The structure (RAT-SPN, Poon-Domingos, DGC-SPN, or a hand-built teaching example), its
    sizes, and the seed.

    Only the sizes the chosen structure uses are shown (RAT-SPN: depth, repetitions, input
    distributions, sums per region; Poon-Domingos: region resolution, input distributions, sums
    per region; DGC-SPN: input distributions per pixel, sums per position; example: which
    example, its variables and components, the number of samples it generates). Build calls
    `session.rebuild(...)` with the changed settings, which starts training over with the new
    structure; every other view redraws on the session's "reset"
    event. A session on a custom model shows its structure and only the seed can change.
    """

    FIELDS = (("depth", 1, 8), ("num_repetitions", 1, 64), ("region_resolution", 1, 64),
              ("num_input_distributions", 1, 64), ("num_sums", 1, 64), ("example_vars", 1, 16),
              ("num_examples", 2, 100_000), ("seed", 0, 2 ** 31 - 1))

    def __init__(self, session, **kwargs):
        cfg = session.config
        custom = [] if cfg.structure in STRUCTURE_FIELDS else [("custom model", cfg.structure)]
        self.structure = widgets.Dropdown(options=STRUCTURE_CHOICES + custom,
                                          value=cfg.structure, description="structure",
                                          disabled=bool(custom),
                                          style={"description_width": "130px"},
                                          layout={"width": "300px"})
        self.fields = {name: widgets.BoundedIntText(getattr(cfg, name), min=low, max=high,
                                                    description=name.replace("num_", "# "),
                                                    style={"description_width": "130px"},
                                                    layout={"width": "230px"})
                       for name, low, high in self.FIELDS}
        self.example = widgets.Dropdown(options=list(EXAMPLES), value=cfg.example,
                                        description="example",
                                        style={"description_width": "130px"},
                                        layout={"width": "300px"})
        self.build = widgets.Button(description="Build", icon="cubes", button_style="primary")
        self.summary = widgets.HTML()
        super().__init__(session, [
            widgets.HBox([self.structure, self.example, self.build]),
            widgets.HBox(list(self.fields.values()), layout={"flex_flow": "row wrap"}),
            self.summary], events=("reset",), **kwargs)
        self.structure.observe(lambda _: self._show_fields(), "value")
        self.build.on_click(lambda _: self.guarded(self._on_build))
        self.refresh()

    def _shown(self):
        """The fields the chosen structure uses, and the seed."""
        return set(STRUCTURE_FIELDS.get(self.structure.value, ())) | {"seed"}

    def _show_fields(self):
        shown = self._shown()
        for name, field in self.fields.items():
            field.layout.display = None if name in shown else "none"
        self.example.layout.display = None if "example" in shown else "none"

    def _on_build(self):
        cfg = self.session.config
        changes = {name: int(field.value) for name, field in self.fields.items()
                   if name in self._shown() and int(field.value) != getattr(cfg, name)}
        if self.structure.value != cfg.structure:
            changes["structure"] = self.structure.value
            if "example" in (self.structure.value, cfg.structure):   # data come with it
                changes["dataset"] = DATASET_OF[self.structure.value]
        if "example" in self._shown() and self.example.value != cfg.example:
            changes["example"] = self.example.value
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
        self.summary.value = (f"{structure} on {cfg.dataset}: {s.data.num_vars} variables, "
                              f"{len(s.data.train)} train / {len(s.data.test)} test rows, "
                              f"{len(layers)} layers, {weights:,} parameters")
        self.structure.value = cfg.structure
        self.example.value = cfg.example
        for name, field in self.fields.items():
            field.value = getattr(cfg, name)
        self._show_fields()
