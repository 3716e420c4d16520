"""The builder view: choose a structure, see the sizes it uses, build; errors change nothing."""
import numpy as np

from spnlab.lab import Session
from spnlab.widgets import BuilderView, TrainerView, Workbench


def shown(view):
    return {name for name, field in view.fields.items() if field.layout.display != "none"}


def num_weights(session):
    return sum(int(np.prod(v.shape)) for v in session.model.trainable_variables)


def test_switching_to_poon_domingos_shows_its_sizes_and_rebuilds_the_session():
    wb = Workbench("classroom", seed=0, test_every=0)
    s, builder = wb.session, wb.builder
    assert shown(builder) == {"depth", "num_repetitions", "num_input_distributions",
                              "num_sums", "seed"}
    before = builder.summary.value
    assert f"{num_weights(s):,} parameters" in before
    builder.structure.value = "poon_domingos"
    assert shown(builder) == {"region_resolution", "num_input_distributions", "num_sums",
                              "seed"}
    assert s.config.structure == "ratspn"                   # nothing changes before Build
    builder.fields["num_sums"].value = 3
    builder.fields["depth"].value = 5                       # hidden: not sent
    builder.build.click()
    assert builder.error.value == ""
    assert s.config.structure == "poon_domingos" and s.config.num_sums == 3
    assert s.config.depth == 2 and s.step_count == 0
    assert builder.summary.value != before
    assert "poon_domingos (8x8 image, 4-pixel grid) on digits" in builder.summary.value
    assert f"{num_weights(s):,} parameters" in builder.summary.value
    assert set(wb.trainer.layer_ops) == set(s.sum_ops) == {f"S{i}" for i in range(1, 8)}
    assert wb.graph.error.value == "" and "<svg" in wb.graph.svg.value
    wb.trainer.step_button.click()
    assert s.step_count == 1 and wb.trainer.error.value == ""
    builder.structure.value = "ratspn"                       # and back, with a new depth
    builder.fields["depth"].value = 3
    builder.build.click()
    assert (s.config.structure, s.config.depth) == ("ratspn", 3) and builder.error.value == ""
    assert len(s.sum_ops) == 5
    wb.close()


def test_a_structure_that_does_not_fit_the_data_is_shown_and_changes_nothing():
    data = np.random.default_rng(0).integers(0, 2, size=(40, 6))
    s = Session(data=data, depth=1, test_every=0)              # a RAT-SPN on 6 variables
    builder = BuilderView(s)
    summary = builder.summary.value
    builder.structure.value = "poon_domingos"                  # image_shape is still (8, 8)
    builder.build.click()
    assert "image_shape=(8, 8)" in builder.error.value
    assert s.config.structure == "ratspn" and builder.summary.value == summary
    builder.close()


def test_a_custom_model_shows_its_structure_and_only_the_seed():
    data = np.random.default_rng(0).integers(0, 2, size=(40, 6))
    model = Session(data=data, depth=1).model
    s = Session(model=model, data=data, test_every=0)
    builder, trainer = BuilderView(s), TrainerView(s)
    assert builder.structure.value == "custom" and builder.structure.disabled
    assert shown(builder) == {"seed"}
    builder.fields["seed"].value = 5
    builder.build.click()
    assert builder.error.value == "" and s.config.seed == 5
    builder.close(), trainer.close()


def test_each_example_shows_only_the_sizes_it_reads_and_the_summary_names_the_kept_op():
    s = Session("example", example="naive_bayes", example_vars=3, num_sums=2, seed=0)
    builder = BuilderView(s)
    assert shown(builder) == {"example_vars", "num_sums", "num_examples", "seed"}
    builder.example.value = "poon_domingos"         # two fixed variables, five fixed sums
    assert shown(builder) == {"num_examples", "seed"}
    builder.example.value = "random"                # random_spn(example_vars, seed)
    assert shown(builder) == {"example_vars", "num_examples", "seed"}
    assert "trains with em" in builder.summary.value
    s.set_sum_op("S1", "hard_em")                   # a node graph is one sum "layer", S1
    builder.build.click()                           # the random example, ops kept
    assert s.config.example == "random" and builder.error.value == ""
    assert s.sum_ops == {"S1": "hard_em"} and "trains with hard_em" in builder.summary.value
    labels = [f.description for f in builder.fields.values()]
    assert all(len(label) <= 17 for label in labels), labels    # fit their 130 px
    builder.close()
