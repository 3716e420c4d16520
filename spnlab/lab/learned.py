"""Learned structures inside a session: the structure of "learnspn", "learnspn_clt" and "hclt"
is learned from the session's training rows by a `StructureRun` (`spnlab.structure`), and the
session then trains its parameters like any other node graph.

The run is part of the session's state: a reset gives the learned structure back with the
learner's own weights (it does not learn again), and a rebuild learns again only when a setting
the structure depends on changed (`run_key`). The workbench steps a run itself
(`Session.structure_run_for`) and hands it over (`Session.rebuild(..., structure_run=run)`), so
the structure learned step by step on screen is the one that is then trained.
"""
import json

from spnlab.lab.data import DataSet, split
from spnlab.lab.structure_run import StructureRun
from spnlab.structure import Dataset

# The settings a learned structure depends on.
KEY_FIELDS = ("structure", "learner_options", "dataset", "data_dir", "binarize_threshold",
              "test_fraction", "seed")


def run_key(config):
    """A string that is equal for two configs exactly when they learn the same structure."""
    return json.dumps({name: getattr(config, name) for name in KEY_FIELDS}, sort_keys=True,
                      default=str)


def learning_splits(data, config):
    """`spnlab.structure.Dataset(train, valid, test)` from the session's `DataSet`: a benchmark
    keeps its own validation rows; otherwise `config.test_fraction` of the training rows are
    held out (seeded by `config.seed`)."""
    if data.valid is not None:
        return Dataset(data.name, data.train, data.valid, data.test)
    train, valid = split(data.train, config.test_fraction, config.seed + 1)
    return Dataset(data.name, train, valid, data.test)


def new_run(config, data, prepare_ahead=False):
    """A fresh `StructureRun` of `config.structure` over `data` (a `DataSet`), not yet
    stepped; `run.session_key` is `run_key(config)`."""
    options = dict(config.learner_options)
    if data.variables is not None:
        options.setdefault("variables", list(data.variables))
    run = StructureRun(config.structure, learning_splits(data, config), seed=config.seed,
                       prepare_ahead=prepare_ahead, **options)
    run.session_key = run_key(config)
    return run


def finished_run(config, data, candidates):
    """The learned run for `config`: the first of `candidates` (runs or None) learned with the
    same settings, stepped to its end; else a new one learned in one go."""
    key = run_key(config)
    for run in candidates:
        if run is not None and getattr(run, "session_key", None) == key:
            if not run.done:
                run.run()
            return run
    run = new_run(config, data)
    run.run()
    return run


def learned_data(run, data):
    """The session's `DataSet` for a learned structure: it trains on the rows the structure
    was learned from, tests on the test rows (the validation rows when there are none), and
    keeps the validation rows as `valid`."""
    test = run.test if len(run.test) else run.valid
    return DataSet(data.name, run.train, test, image_shape=data.image_shape, valid=run.valid,
                   variables=data.variables)
