"""spnlab.widgets: Jupyter views over a `spnlab.lab.Session` (ipywidgets, plotly, Graphviz).

Views hold no training logic: they call the session and redraw on its events. The figures
they draw come from pure functions in `figures.py`.

    from spnlab.widgets import Workbench
    Workbench("classroom")
    StructureView("learnspn", data="digits", min_instances_slice=100)   # watch LearnSPN learn
"""
from spnlab.widgets.builder import BuilderView
from spnlab.widgets.graph_view import GraphView
from spnlab.widgets.inference import CompletionsView, MarginalsView
from spnlab.widgets.plots import CompareView, LikelihoodView, SignalsView
from spnlab.widgets.structure_view import StructureView
from spnlab.widgets.svg_view import SvgView
from spnlab.widgets.trainer import TrainerView
from spnlab.widgets.workbench import Workbench

__all__ = ["BuilderView", "CompareView", "CompletionsView", "GraphView", "LikelihoodView",
           "MarginalsView", "SignalsView", "StructureView", "SvgView", "TrainerView", "Workbench"]
