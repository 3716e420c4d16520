"""The pure figure functions: the numbers drawn are the numbers given, in the right places."""
import re

import numpy as np
import pytest

from spnlab.widgets import figures as F

STEPS = [{"step": s, "wall_time": 0.1 * s, "train_ll": -10.0 + s,
          "test_ll": (-11.0 + s) if s % 2 == 0 else None} for s in range(1, 7)]
SWITCHES = [{"step": 3, "new": {"S1": "hard_em", "S2": "hard_em"}}]


def test_likelihood_curves_and_switch_markers():
    fig = F.likelihood_figure(STEPS, SWITCHES)
    train, test = fig["data"]
    assert train["x"] == [1, 2, 3, 4, 5, 6] and train["y"] == [-9.0, -8.0, -7.0, -6.0, -5.0, -4.0]
    assert test["x"] == [2, 4, 6] and test["y"] == [-9.0, -7.0, -5.0]     # only evaluated steps
    (shape,) = fig["layout"]["shapes"]
    assert shape["x0"] == shape["x1"] == 3
    assert shape["line"]["color"] == F.op_colour("hard_em")
    assert fig["layout"]["annotations"][0]["text"] == "hard_em"
    by_time = F.likelihood_figure(STEPS, SWITCHES, x="wall_time")
    assert by_time["layout"]["shapes"][0]["x0"] == pytest.approx(0.3)
    assert by_time["data"][0]["x"] == pytest.approx([0.1 * s for s in range(1, 7)])


def test_non_finite_values_are_gaps_not_nan():
    steps = [dict(STEPS[0], train_ll=float("-inf")), STEPS[1]]
    assert F.likelihood_figure(steps)["data"][0]["y"] == [None, -8.0]


def test_marginal_image_is_drawn_top_row_first_with_evidence_marks():
    p1 = np.arange(6) / 10                                   # p(X_v = 1) for a 2 x 3 image
    probs = np.stack([1 - p1, p1], axis=1)
    evidence = np.array([True, False, False, False, False, True])
    fig = F.marginals_figure(probs, image_shape=(2, 3), evidence=evidence)
    heat, marks = fig["data"]
    # plotly draws row 0 of z at the bottom, so the image's top row is the last row of z
    np.testing.assert_allclose(heat["z"], [[0.3, 0.4, 0.5], [0.0, 0.1, 0.2]])
    assert sorted(zip(marks["x"], marks["y"])) == [(0, 1), (2, 0)]
    bars = F.marginals_figure(probs)
    assert [b["name"] for b in bars["data"]] == ["= 0", "= 1"]
    np.testing.assert_allclose(bars["data"][1]["y"], p1)
    with pytest.raises(ValueError, match="image_shape"):
        F.marginals_figure(probs, image_shape=(2, 2))
    for bad in (5, 2, -1, 1.0, True):             # two states: 0 and 1 (5 was an IndexError)
        with pytest.raises(ValueError, match=re.escape(f"state in [0, 2). Received: "
                                                       f"value={bad!r}")):
            F.marginals_figure(probs, value=bad)


def test_marginal_image_beside_its_ground_truth_with_hover_rows_and_a_legend_for_evidence():
    p1 = np.arange(6) / 10
    probs = np.stack([1 - p1, p1], axis=1)
    evidence = np.array([True, False, False, False, False, True])
    truth = np.array([1, 0, 0, 1, 1, 0])
    fig = F.marginals_figure(probs, image_shape=(2, 3), evidence=evidence, truth=truth)
    heat, marks, image, image_marks = fig["data"]
    np.testing.assert_allclose(heat["z"], [[0.3, 0.4, 0.5], [0.0, 0.1, 0.2]])
    np.testing.assert_allclose(image["z"], [[1, 1, 0], [1, 0, 0]])        # upright as well
    assert (heat["xaxis"], image["xaxis"]) == ("x2", "x")                # the map on the right
    assert fig["layout"]["xaxis"]["domain"][1] < fig["layout"]["xaxis2"]["domain"][0]
    # hover names the image row (z row 0 is image row 1) and the quantity
    assert heat["customdata"] == [[1, 1, 1], [0, 0, 0]]
    assert "p(x = 1 | evidence)" in heat["hovertemplate"] and "row" in heat["hovertemplate"]
    assert marks["name"] == "observed (evidence)" and fig["layout"]["showlegend"]
    assert image_marks["x"] == marks["x"] and image_marks["showlegend"] is False
    means = F.posterior_mean_figure(np.full(6, 3.0), (2, 3), evidence, vmax=16, truth=truth * 16)
    assert means["data"][0]["zmax"] == 16 and means["data"][2]["z"][0] == [16.0, 16.0, 0.0]


def test_image_grid_places_rows_and_greys_out_the_unobserved_pixels():
    originals = np.array([[1, 0, 1, 1], [0, 0, 1, 0]], float)
    masks = np.array([[True, False, True, True], [False, False, True, True]])
    completed = np.array([[1, 1, 1, 1], [1, 0, 1, 0]], float)
    fig = F.image_grid_figure([originals, originals, completed], ["original", "masked", "mpe"],
                              (2, 2), masks=masks)
    z = np.array(fig["data"][0]["z"], dtype=float)          # None -> nan borders
    tile_h = 2 + 2
    assert z.shape == (3 * tile_h, 2 * (2 + 2))
    screen = z[::-1]                     # a heatmap draws z[0] at the bottom: top row first

    def tile(row, n):                                        # row 0 = top of the picture
        block = screen[row * tile_h:(row + 1) * tile_h]
        return block[1:-1, n * 4 + 1:n * 4 + 3]              # each image upright
    np.testing.assert_array_equal(tile(0, 0), originals[0].reshape(2, 2))
    np.testing.assert_array_equal(tile(1, 0), [[1, 0.5], [1, 1]])     # masked: grey where hidden
    np.testing.assert_array_equal(tile(2, 1), completed[1].reshape(2, 2))
    assert fig["layout"]["yaxis"]["ticktext"] == ["original", "masked", "mpe"]


def test_compare_groups_rows_by_mode():
    table = [{"mode": m, "step": s, "wall_time": s * t, "train_ll": -s * t, "test_ll": None}
             for m, t in (("em", 1.0), ("hard_em", 2.0)) for s in (1, 2, 3)]
    fig = F.compare_figure(table, x="wall_time")
    em, hard = fig["data"]
    assert em["name"] == "em" and em["x"] == [1.0, 2.0, 3.0] and em["y"] == [-1.0, -2.0, -3.0]
    assert hard["x"] == [2.0, 4.0, 6.0] and hard["line"]["color"] == F.op_colour("hard_em")
    assert F.compare_figure(table, y="test_ll")["data"][0]["x"] == []


def test_series_histogram_and_counts():
    fig = F.series_figure({"S1": ([1, 2], [0.5, None])}, "entropy", "nats")
    assert fig["data"][0]["y"] == [0.5, None]
    hist = F.histogram_figure({"S1": ([0.0, 1.0, 2.0], [1, 3])})
    assert hist["data"][0]["x"] == [0.5, 1.5] and hist["data"][0]["y"] == [0.25, 0.75]
    counts = F.counts_figure([[1, 2, 3], [0, 0, 6]])
    assert counts["data"][0]["z"] == [[1, 2, 3], [0, 0, 6]]
    with pytest.raises(ValueError, match="rank 2"):
        F.counts_figure([1, 2, 3])


def test_every_plot_against_steps_marks_the_switches_and_shows_single_points():
    fig = F.series_figure({"S1": ([1, 2, 3, 4], [0.5, 0.4, 0.2, 0.1])}, "entropy", "nats",
                          SWITCHES)
    (shape,) = fig["layout"]["shapes"]
    assert shape["x0"] == 3 and shape["line"]["color"] == F.op_colour("hard_em")
    assert fig["layout"]["annotations"][0]["text"] == "hard_em"
    # one step: a marker, since a single point draws no line; long runs: lines only
    assert "markers" in F.likelihood_figure(STEPS[:1])["data"][0]["mode"]
    long = [dict(STEPS[0], step=s) for s in range(1, 200)]
    assert F.likelihood_figure(long)["data"][0]["mode"] == "lines"


def test_counts_heatmap_names_its_quantity_and_counts_in_whole_numbers_from_the_top():
    fig = F.counts_figure(np.arange(6.0).reshape(2, 3), quantity="winner counts")
    (trace,) = fig["data"]
    assert trace["colorbar"]["title"]["text"] == "winner counts"
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"         # sum 0 on top
    assert fig["layout"]["xaxis"]["dtick"] == 1 and fig["layout"]["yaxis"]["dtick"] == 1


def test_compare_before_a_run_says_what_to_do_instead_of_empty_axes():
    empty = F.compare_figure([])
    assert empty["data"] == [] and not empty["layout"]["xaxis"]["visible"]
    assert "press Compare" in empty["layout"]["annotations"][0]["text"]
    table = [{"mode": "em", "step": 1, "wall_time": 0.1, "train_ll": -5.0, "test_ll": None}]
    assert F.compare_figure(table)["layout"]["title"]["text"].startswith("Train log-likelihood")


def test_figures_are_valid_plotly():
    import plotly.graph_objects as go
    for fig in (F.likelihood_figure(STEPS, SWITCHES), F.compare_figure([]),
                F.marginals_figure(np.full((4, 2), 0.5), (2, 2), np.ones(4, bool)),
                F.image_grid_figure([np.zeros((1, 4))], ["original"], (2, 2)),
                F.counts_figure(np.eye(2)), F.histogram_figure({"a": ([0, 1], [1])}),
                F.series_figure({"S1": ([1], [0.5])}, "e", "nats", SWITCHES)):
        go.Figure(fig)                                        # raises on an invalid property
