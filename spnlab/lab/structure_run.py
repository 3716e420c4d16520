"""A structure learner stepped for the workbench (UI-free): the data splits, the learner, the
validation log-likelihood after every decision, the graph so far, saving, and the hand-over to a
training `Session` once the structure is done (DESIGN.md sections 6 and 9).

    run = StructureRun("learnspn", "digits", min_instances_slice=100)
    run.step()                          # one recorded decision (spnlab.structure.Decision)
    run.curve[-1]                       # CurvePoint(decisions=1, valid_ll=...)
    run.run()                           # to the end
    session = run.to_session(sum_op="hard_em")    # train its parameters, every sum op
"""
import json
import os
import threading
from typing import NamedTuple

import numpy as np

from spnlab.graph import graph_from_config, graph_to_config
from spnlab.graph.render import node_statements
from spnlab.lab.data import digits, split
from spnlab.lab.structure_layout import FinalLayout, LazyFinalLayout, describe
from spnlab.structure import HCLT, Dataset, LearnSPN, check_discrete_data

LEARNERS = {
    "learnspn": lambda data, **options: LearnSPN(data, **options),
    "learnspn_clt": lambda data, **options: LearnSPN(data, leaves="chow_liu", **options),
    "hclt": lambda data, **options: HCLT(data, **{"init": "random", **options}),
}
FORMAT = "spnlab.structure_run/1"


class NewPart(NamedTuple):
    """What one decision added to the graph (see `StructureRun.new_part`)."""

    nodes: frozenset
    edges: frozenset


class CurvePoint(NamedTuple):
    """The mean validation log-likelihood (nats per row) after `decisions` decisions."""

    decisions: int
    valid_ll: float


def _splits(data, valid_fraction, seed):
    """`(train, valid, test, image_shape, name)` from the accepted forms of `data`."""
    if isinstance(data, str):
        if data != "digits":
            raise ValueError(f"Expected `data` to be 'digits', an array, a (train, valid[, "
                             f"test]) tuple or a Dataset. Received: data={data!r}")
        bundled = digits(seed=seed)
        train, valid = split(bundled.train, valid_fraction, seed + 1)
        return train, valid, bundled.test, bundled.image_shape, "digits"
    if isinstance(data, Dataset):
        return data.train, data.valid, data.test, None, data.name
    if isinstance(data, (tuple, list)) and len(data) in (2, 3) and \
            all(np.ndim(part) == 2 for part in data):
        parts = [check_discrete_data(part, f"data[{i}]") for i, part in enumerate(data)]
        if len({p.shape[1] for p in parts}) != 1:
            raise ValueError(f"Expected the parts of `data` to have the same number of "
                             f"columns. Received: {[p.shape for p in parts]}")
        test = parts[2] if len(parts) == 3 else parts[1][:0]
        return parts[0], parts[1], test, None, "custom"
    array = check_discrete_data(data, "data")
    rest, test = split(array, valid_fraction, seed)
    train, valid = split(rest, valid_fraction, seed + 1)
    return train, valid, test, None, "custom"


def _column_names(data):
    """The column names of a DataFrame (or of the first part of a tuple of them), else None."""
    first = data[0] if isinstance(data, (tuple, list)) and len(data) else data
    columns = getattr(first, "columns", None)
    return None if columns is None else [str(c) for c in columns]


class StructureRun:
    """One structure learner over one data set, stepped.

    Args:
        learner: "learnspn", "learnspn_clt" (Chow-Liu-tree leaves) or "hclt".
        data: "digits" (the bundled binarised digits), an int array or DataFrame (its column
            names become the variables' names; split into train, valid
            and test by `valid_fraction`), a `(train, valid)` or `(train, valid, test)` tuple,
            or a `spnlab.structure.Dataset` (e.g. `load_debd(...)`).
        valid_fraction: share of rows held out for validation (and for test) when splitting.
        seed: seeds the splits and the learner.
        prepare_ahead: after each step, compute the next decision on a background thread
            (LearnSPN), so that a Step clicked a moment later only applies it.
        **options: the learner's arguments (`min_instances_slice`, `threshold`,
            `num_latent_states`, ...).
    """

    def __init__(self, learner="learnspn", data="digits", valid_fraction=0.2, seed=0,
                 prepare_ahead=False, **options):
        self.prepare_ahead = bool(prepare_ahead)
        self._ahead = None
        if learner not in LEARNERS:
            raise ValueError(f"Expected `learner` to be one of {tuple(LEARNERS)}. "
                             f"Received: learner={learner!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"Expected `seed` to be an int. Received: seed={seed!r}")
        self.learner_name, self.options, self.seed = learner, dict(options), int(seed)
        self.train, self.valid, self.test, self.image_shape, self.data_name = _splits(
            data, valid_fraction, self.seed)
        names = _column_names(data)
        if names is not None:
            self.options.setdefault("variables", names)
        # every split's values count (a value seen only in the validation rows included)
        largest = max(int(part.max()) for part in (self.train, self.valid, self.test)
                      if len(part))
        self.options.setdefault("num_vals", max(2, largest + 1))
        self.reset()

    def reset(self):
        """Start the learner over (same data and settings); the curve keeps its first point."""
        self._join_ahead()
        self.learner = LEARNERS[self.learner_name](self.train, seed=self.seed, **self.options)
        self.curve = [CurvePoint(0, self._valid_ll())]
        self._graph = None
        self._nodes_seen = 0               # nodes of the largest graph drawn since the reset
        # the final structure's layout, for drawings that keep their places (LearnSPN)
        self._final = LazyFinalLayout(self._final_layout) \
            if isinstance(self.learner, LearnSPN) and self._may_be_drawn_whole() else None
        self._described = {}               # DOT text -> its nodes' slices and scopes
        self._start_ahead()
        return self

    def _start_ahead(self):
        prepare = getattr(self.learner, "prepare", None)
        if self.prepare_ahead and prepare is not None and not self.learner.done:
            self._ahead = threading.Thread(target=prepare, name="spnlab-structure-ahead",
                                           daemon=True)
            self._ahead.start()

    def wait_prepared(self):
        """Wait for the next decision being prepared in the background (if any)."""
        self._join_ahead()

    def _join_ahead(self):
        if self._ahead is not None:
            self._ahead.join()
            self._ahead = None

    # --- stepping ---------------------------------------------------------------------------

    @property
    def done(self):
        return self.learner.done

    @property
    def decisions(self):
        return self.learner.decisions

    def step(self):
        """Take the next decision; returns it (None when the structure is done)."""
        self._join_ahead()
        decision = self.learner.step()
        if decision is not None:
            self._graph = None
            self.curve.append(CurvePoint(len(self.decisions), self._valid_ll()))
            self._start_ahead()
        return decision

    def run(self, max_steps=None):
        """Step until done (or `max_steps` decisions); returns the decisions taken."""
        taken = []
        while not self.done and (max_steps is None or len(taken) < max_steps):
            taken.append(self.step())
        return taken

    def _valid_ll(self):
        return float(np.mean(self.learner.log_likelihood(self.valid)))

    # --- the structure ----------------------------------------------------------------------

    def graph(self):
        """The structure so far as a node graph (rebuilt only after a step)."""
        if self._graph is None:
            self._graph = self.learner.graph()
        return self._graph

    def new_part(self, node_labels=None):
        """The nodes the last decision made, with the edges between them, as a highlight for
        `to_dot(highlight=...)` (`nodes`: `{(node, output)}`, `edges`: `{((parent, output),
        (child, output))}`); None before the first decision or for a learner that does not
        label its nodes (HCLT)."""
        if not self.decisions or not isinstance(self.learner, LearnSPN):
            return None
        decision = self.decisions[-1]
        slices = {decision.slice_id, *decision.children}
        labels = {} if node_labels is None else node_labels
        self._graph = self.learner.graph(labels)
        new = {node for node, label in labels.items() if label in slices}
        nodes = {(node, out) for node in new for out in range(node.num_outputs)}
        edges = {((node, out), child) for node in new if node.is_op
                 for out in range(node.num_outputs) for child in node.child_outputs
                 if child[0] in new}
        return NewPart(frozenset(nodes), frozenset(edges))

    def dot(self, max_nodes=600, highlight_new=True):
        """The graph so far as DOT text, the last decision's nodes highlighted; None when it
        has over `max_nodes` nodes (too large to read as one drawing)."""
        from spnlab.graph import to_dot, topological_order
        if self._nodes_seen > max_nodes:           # a learned graph only grows: skip the build
            return None
        labels = {}                                # {node: slice id}, for `positions`
        part = self.new_part(labels) if highlight_new else None
        if not labels and self._final is not None:
            self._graph = self.learner.graph(labels)
        root = self.graph()
        self._nodes_seen = len(topological_order(root))
        if self._nodes_seen > max_nodes:
            return None
        text = to_dot(root, weights=True, highlight=part or None)
        if self._final is not None:
            self._described = {text: describe(root, labels)}      # for `positions`
        return text

    FINAL_LAYOUT_MAX_NODES = 600

    def _may_be_drawn_whole(self):
        """Whether the final structure may have at most `FINAL_LAYOUT_MAX_NODES` nodes: a
        LearnSPN has about (rows / min_instances_slice) x variables of them (digits 245 for
        317, nltcs 1,294 for 966, plants 6,000 for 5,900); learning a large one ahead would
        only compete with the steps for the CPU."""
        rows, num_vars = self.train.shape
        estimate = rows / self.learner.min_instances_slice * num_vars
        return estimate <= 2 * self.FINAL_LAYOUT_MAX_NODES

    def _final_layout(self):
        learner = LEARNERS[self.learner_name](self.train, seed=self.seed, **self.options)
        return FinalLayout(learner, self.FINAL_LAYOUT_MAX_NODES)

    def positions(self, dot_text):
        """Node places for the last `dot()` text that keep every node where it is in the final
        structure's layout (`spnlab.lab.structure_layout`): `(bb, {node id: {"pos", "width",
        "height"}}, the final layout's edge routes)`, the arguments of
        `spnlab.graph.render.render_pinned` after the text; or None (HCLT, a final structure
        too large to draw whole, an older text). The first call learns the final structure
        ahead and lays it out (seconds): call it off the event loop."""
        described = self._described.get(dot_text)
        if self._final is None or described is None:
            return None
        layout = self._final.get()
        pins = layout.place(node_statements(dot_text), described)
        return None if pins is None else (layout.bb, pins, layout.edges)

    def overview_dot(self, max_splits=40):
        """A LearnSPN structure as one box per split (DOT text): its kind (+ sum, x product),
        rows and variables, with edges to what it made. Readable where the node graph is too
        large: the leaves under a split are one box ("7 leaves, 9 vars"), as are its pending
        slices when there are over three, and only the first `max_splits` splits in the order
        they were made (breadth first) are drawn, the rest as "+N more". The last decision and
        what it made are drawn in blue. None for HCLT (its tree is the overview)."""
        if not isinstance(self.learner, LearnSPN):
            return None
        decided = {d.slice_id: d for d in self.decisions}
        pending = {slice_id: (len(rows), len(cols))
                   for slice_id, rows, cols in self.learner.pending}
        last = self.decisions[-1] if self.decisions else None
        new = set() if last is None else {last.slice_id, *last.children}
        splits = sorted(i for i, d in decided.items() if d.kind in ("sum", "product"))
        shown = set(splits[:max_splits])
        blue = ', color="#1565c0", penwidth=2.5'
        lines = ["digraph structure {", "  graph [rankdir=TB, nodesep=0.12, ranksep=0.3];",
                 '  node [shape=box, style="rounded,filled", fillcolor=white, fontsize=11, '
                 'fontname="Helvetica"];', "  edge [arrowhead=none, color=gray55];"]

        def box(name, label, is_new, style=""):
            lines.append(f'  {name} [label="{label}"{style}{blue if is_new else ""}];')

        def edge(parent, child, is_new, style=""):
            lines.append(f"  {parent} -> {child}"
                         + (f" [{style}]" if style else "")
                         + (' [color="#1565c0", penwidth=2]' if is_new and not style else "")
                         + ";")

        root_pending = not decided and 0 in pending
        if root_pending:
            box("s0", f"pending #0\\n{pending[0][0]} rows x {pending[0][1]} vars", False,
                ', style="rounded,dashed"')
        for i in sorted(shown):
            d = decided[i]
            symbol = "+" if d.kind == "sum" else "\u00d7"
            box(f"s{i}", f"{symbol}  #{i}\\n{len(d.rows)} rows x {len(d.cols)} vars", i in new)
        for i in sorted(shown):
            d = decided[i]
            leaves = [c for c in d.children if c in decided and decided[c].kind == "leaf"]
            waiting = [c for c in d.children if c in pending]
            hidden = [c for c in d.children if c in decided and c not in shown
                      and decided[c].kind != "leaf"]
            for c in d.children:
                if c in shown:
                    edge(f"s{i}", f"s{c}", c in new)
            if leaves:
                num_vars = sum(len(decided[c].cols) for c in leaves)
                clt = sum(decided[c].details.get("leaf") == "chow_liu" for c in leaves)
                label = (f"{len(leaves)} lea{'f' if len(leaves) == 1 else 'ves'}, "
                         f"{num_vars} var{'' if num_vars == 1 else 's'}"
                         + (f"\\n{clt} Chow-Liu" if clt else ""))
                is_new = any(c in new for c in leaves)
                box(f"leaves{i}", label, is_new, ', fillcolor="#f1f1f1"')
                edge(f"s{i}", f"leaves{i}", is_new)
            if len(waiting) > 3:
                box(f"wait{i}", f"{len(waiting)} pending", any(c in new for c in waiting),
                    ', style="rounded,dashed"')
                edge(f"s{i}", f"wait{i}", any(c in new for c in waiting))
            else:
                for c in waiting:
                    box(f"s{c}", f"pending #{c}\\n{pending[c][0]} rows x {pending[c][1]} vars",
                        c in new, ', style="rounded,dashed"')
                    edge(f"s{i}", f"s{c}", c in new)
            if hidden:
                box(f"more{i}", f"+{len(hidden)} more", False, ", shape=plaintext, style=\"\"")
                edge(f"s{i}", f"more{i}", False, "style=dotted")
        if not shown and decided:                      # the root became a leaf at once
            d = decided[0]
            box("s0", f"leaf #0\\n{len(d.rows)} rows x {len(d.cols)} vars", True)
        lines.append("}")
        return "\n".join(lines)

    def svg(self, max_nodes=600, highlight_new=True):
        """`dot()` rendered to SVG by Graphviz (None when `dot()` is None)."""
        from spnlab.graph import render_svg
        text = self.dot(max_nodes, highlight_new)
        return None if text is None else render_svg(text)

    def to_session(self, config=None, **overrides):
        """A training `Session` on the structure so far (train and test rows of this run)."""
        from spnlab.lab.session import Session
        test = self.test if len(self.test) else self.valid
        # A fresh graph: the session writes its trained weights back into the graph it is
        # given, and the run's own graph must stay the learned one (saving, a second session).
        return Session(config, model=self.learner.graph(), data=(self.train, test), **overrides)

    # --- files ------------------------------------------------------------------------------

    def to_dict(self):
        """Settings, the number of decisions and the graph (JSON-able)."""
        return {"format": FORMAT, "learner": self.learner_name, "options": self.options,
                "seed": self.seed, "data": self.data_name, "decisions": len(self.decisions),
                "curve": [list(point) for point in self.curve],
                "graph": graph_to_config(self.graph())}

    def save(self, path):
        """Write `to_dict()` as JSON to `path`."""
        try:
            path = os.fspath(path)
        except TypeError:
            raise TypeError(f"Expected `path` to be a file path. Received: path={path!r}") \
                from None
        with open(path, "w") as file:
            json.dump(self.to_dict(), file)
        return path

    @classmethod
    def load(cls, path, data="digits", valid_fraction=0.2):
        """A run replayed from a saved file: the same learner, settings and seed over `data`,
        stepped to the saved number of decisions (learning is deterministic), then checked
        against the saved graph. Errors name the file."""
        saved = load_saved(path)
        run = cls(saved["learner"], data, valid_fraction, saved["seed"], **saved["options"])
        run.run(saved["decisions"])
        if graph_to_config(run.graph()) != saved["graph"]:
            raise ValueError(f"{path}: replaying the saved settings on this data gives another "
                             f"structure (different data?). load_graph(path) reads the saved "
                             f"graph itself.")
        return run


def load_saved(path):
    """The dict saved by `StructureRun.save`, checked (errors name the file)."""
    try:
        with open(os.fspath(path)) as file:
            saved = json.load(file)
    except OSError as error:
        raise FileNotFoundError(f"Cannot read the structure file {path}: {error.strerror}") \
            from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a saved structure (not JSON: {error})") from None
    missing = [k for k in ("learner", "options", "seed", "decisions", "graph")
               if not isinstance(saved, dict) or k not in saved]
    if missing or saved.get("format") != FORMAT:
        raise ValueError(f"{path} is not a saved structure of format {FORMAT!r} "
                         f"(missing {missing or 'format'}).")
    return saved


def load_graph(path):
    """The node graph's root saved in a structure file."""
    saved = load_saved(path)
    try:
        root, _ = graph_from_config(saved["graph"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: the saved graph is damaged: {error}") from None
    return root
