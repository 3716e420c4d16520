"""Play / Pause / Step / Reset, the sum op of all layers or one, and the live hyperparameters."""
import asyncio

import ipywidgets as widgets

from spnlab.lab.ops import OPS, label_name
from spnlab.widgets._base import SessionView
from spnlab.widgets.clock import BrowserClock

OP_CHOICES = list(OPS)
_LAYERS_HELP = widgets.HTML(
    "Sum layers from the leaves up: S1 mixes the leaf distributions, the last one is the "
    "root; a sum op can differ per layer.", layout={"width": "100%"})
# Play runs until paused; this only bounds a forgotten Play.
PLAY_STEPS = 10 ** 6


class TrainerView(SessionView):
    """Drive a session: every control calls the session between steps.

    Play runs `session.step()` in an asyncio task paced by the browser (`BrowserClock`): after
    each step it waits until the browser has drawn it, so a Pause click or a sum-op switch
    takes effect at the next step. Work over 200 ms (a step waiting for a new op's training
    step to be traced, a Build) shows a busy sign.
    """

    def __init__(self, session, **kwargs):
        self.play = widgets.ToggleButton(description="Play", icon="play", tooltip="Play / Pause")
        self.step_button = widgets.Button(description="Step", icon="step-forward")
        self.reset_button = widgets.Button(description="Reset", icon="undo")
        self.status = widgets.HTML()
        self.clock = BrowserClock()
        ops = session.sum_ops
        self.all_ops = widgets.Dropdown(options=OP_CHOICES + ["mixed"], description="sum op",
                                        value=_common(ops))
        self.layer_box = widgets.HBox(layout={"flex_flow": "row wrap"})
        self.layer_ops = {}
        cfg = session.config
        self.em_lr = widgets.BoundedFloatText(cfg.em_learning_rate, min=1e-4, max=1.0, step=0.01,
                                              description="EM lr")
        self.grad_lr = widgets.BoundedFloatText(cfg.gradient_learning_rate, min=1e-5, max=10.0,
                                                step=0.01, description="grad lr")
        self.batch_size = widgets.BoundedIntText(cfg.batch_size, min=1, max=100000,
                                                 description="batch")
        per_layer = widgets.Accordion([self.layer_box])
        per_layer.set_title(0, "per layer")
        super().__init__(session, [
            widgets.HBox([self.play, self.step_button, self.reset_button, self.status,
                          self.clock]),
            widgets.HBox([self.all_ops, self.em_lr, self.grad_lr, self.batch_size]),
            per_layer], **kwargs)
        self._task = None
        self._syncing = False
        self.play.observe(lambda change: self.guarded(self._on_play, change["new"]), "value")
        self.step_button.on_click(lambda _: self.guarded(self._on_step))
        self.reset_button.on_click(lambda _: self.guarded(self._on_reset))
        self.all_ops.observe(lambda c: self.guarded(self._on_op, "all", c["new"]), "value")
        self._build_layer_ops(ops)
        for name, control in (("em_learning_rate", self.em_lr),
                              ("gradient_learning_rate", self.grad_lr),
                              ("batch_size", self.batch_size)):
            control.observe(lambda c, name=name: self.guarded(self._on_config, name, c["new"]),
                            "value")
        self.refresh()

    # -- controls -> session -------------------------------------------------------------------
    def _on_play(self, playing):
        self.play.description, self.play.icon = ("Pause", "pause") if playing else ("Play", "play")
        if playing:
            if self._task is None or self._task.done():
                self._task = asyncio.ensure_future(self._play())
        else:
            self.session.stop()

    def _on_step(self):
        with self.clock.busy_while(self._step_work()):
            self.session.step()

    def _step_work(self):
        return ("tracing the training step of the new sum op" if self.session.is_tracing
                else "training step")

    async def _pace(self, record):
        """Between two Play steps: the browser has drawn this one, and a new op's training
        step traced in the background is ready (waited for here, not inside the next step,
        so that a Pause click is handled meanwhile)."""
        await self.clock.round_trip()
        if self.session.is_tracing:
            with self.clock.busy_while(self._step_work()):
                while self.session.is_tracing and not self.session.stop_requested:
                    await asyncio.sleep(0.02)

    async def _play(self):
        try:
            await self.session.run_async(PLAY_STEPS, pace=self._pace)
        except Exception as error:  # noqa: BLE001 - shown in the view
            self.show_error(error)
        finally:
            self.play.value = False

    def _on_reset(self):
        self.play.value = False
        self.session.reset()

    def _on_op(self, layer, op):
        if self._syncing or op == "mixed":
            return
        self.session.set_sum_op(layer, op)

    def _on_config(self, name, value):
        if not self._syncing:
            self.session.update_config(**{name: value})

    def _build_layer_ops(self, ops):
        """One dropdown per sum layer (again after a rebuild changed the layers)."""
        titles = {l["key"]: l["title"] for l in self.session.layers}
        self.layer_ops = {key: widgets.Dropdown(options=OP_CHOICES, value=label_name(op),
                                                description=titles.get(key, key),
                                                style={"description_width": "90px"},
                                                layout={"width": "260px"})
                          for key, op in ops.items()}
        for key, dropdown in self.layer_ops.items():
            dropdown.observe(lambda c, key=key: self.guarded(self._on_op, key, c["new"]), "value")
        self.layer_box.children = [_LAYERS_HELP] + list(self.layer_ops.values())

    # -- session -> controls -------------------------------------------------------------------
    def refresh(self):
        s = self.session
        last = s.history.last
        text = f"<b>step {s.step_count}</b>"
        if last is not None:
            text += f" &middot; train LL {last.train_ll:.3f}"
            tests = [r.test_ll for r in s.history.steps if r.test_ll is not None]
            if tests:
                text += f" &middot; test LL {tests[-1]:.3f}"
        self.status.value = text
        self._syncing = True
        try:
            ops = s.sum_ops
            if set(ops) != set(self.layer_ops):
                self._build_layer_ops(ops)
            self.all_ops.value = _common(ops)
            for key, op in ops.items():
                if key in self.layer_ops:
                    self.layer_ops[key].value = label_name(op)
        finally:
            self._syncing = False


def _common(ops):
    names = {label_name(op) for op in ops.values()}
    return names.pop() if len(names) == 1 else "mixed"
