"""Choose a structure and its sizes, the data seed, and build: structural changes start over."""
import ipywidgets as widgets

from spnlab.widgets._base import SessionView


class BuilderView(SessionView):
    """RAT-SPN depth, repetitions, input distributions, sums per region and seed.

    Build calls `session.rebuild(...)`, which starts training over with the new structure;
    every other view redraws on the session's "reset" event.
    """

    FIELDS = (("depth", 1, 8), ("num_repetitions", 1, 64), ("num_input_distributions", 1, 64),
              ("num_sums", 1, 64), ("seed", 0, 2 ** 31 - 1))

    def __init__(self, session, **kwargs):
        cfg = session.config
        self.fields = {name: widgets.BoundedIntText(getattr(cfg, name), min=low, max=high,
                                                    description=name.replace("num_", "# "),
                                                    style={"description_width": "130px"},
                                                    layout={"width": "230px"})
                       for name, low, high in self.FIELDS}
        self.build = widgets.Button(description="Build", icon="cubes", button_style="primary")
        self.summary = widgets.HTML()
        super().__init__(session, [widgets.HBox(list(self.fields.values())[:3]),
                                   widgets.HBox(list(self.fields.values())[3:] + [self.build]),
                                   self.summary], events=("reset",), **kwargs)
        self.build.on_click(lambda _: self.guarded(self._on_build))
        self.refresh()

    def _on_build(self):
        changes = {name: int(field.value) for name, field in self.fields.items()
                   if int(field.value) != getattr(self.session.config, name)}
        self.session.rebuild(**changes)

    def refresh(self):
        s = self.session
        layers = s.layers
        weights = sum(l["num_weights"] for l in layers)
        cfg = s.config
        self.summary.value = (f"{cfg.structure} on {cfg.dataset}: {s.data.num_vars} variables, "
                              f"{len(s.data.train)} train / {len(s.data.test)} test rows, "
                              f"{len(layers)} layers, {weights:,} parameters")
        for name, field in self.fields.items():
            field.value = getattr(cfg, name)
