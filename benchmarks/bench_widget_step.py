"""How long a Step click takes to update the visible view of the workbench (no browser: the
kernel's share, from the click to every visible view redrawn), per structure and visible tab,
and how long the first Step after a sum-op switch takes.

    python benchmarks/bench_widget_step.py
    python benchmarks/bench_widget_step.py --presets classroom dgcspn --repeats 5

Prints the median milliseconds over `--repeats` clicks after two warm-up clicks per tab. For
switches (Graph tab visible): the milliseconds of a first switch to an op (the choice in the
"sum op" menu, views redrawn), the background trace-and-warm-up that follows it, the first Step
click `--pause` seconds after the switch (a user moving to the button), and a Step clicked at
once after switching away and back (the session reuses the step traced for that op).
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TABS = ("Graph", "Signals", "Marginals", "Completions")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+",
                        default=["classroom", "digits", "poon_domingos", "dgcspn", "example"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.5)
    args = parser.parse_args()
    from spnlab.widgets import Workbench
    print(f"# {os.cpu_count()} CPU cores; ms from a Step click to the visible view redrawn")
    for preset in args.presets:
        wb = Workbench(preset, seed=0)
        row = {}
        for index, tab in enumerate(TABS):
            wb.tabs.selected_index = index
            for _ in range(2):
                wb.trainer.step_button.click()
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                wb.trainer.step_button.click()
                times.append(1000 * (time.perf_counter() - start))
            row[tab] = statistics.median(times)
        print(f"{preset:14s} " + "  ".join(f"{tab} {ms:5.0f}" for tab, ms in row.items()),
              flush=True)
        wb.tabs.selected_index = 0
        for op in ("hard_em", "grad", "em"):
            print(f"{'':14s} switch to {op:8s} " + switch_figures(wb, op, args.pause), flush=True)
        wb.close()


def switch_figures(wb, op, pause):
    """'switch ms, background ms, first step ms `pause` s after a first switch to `op`; step
    ms at once after switching back to it (its traced step is reused)'."""
    away = "em" if op != "em" else "grad"
    wb.trainer.all_ops.value = away
    wb.session._join_tracer()
    start = time.perf_counter()
    wb.trainer.all_ops.value = op
    switched = time.perf_counter()
    tracer = wb.session._tracer
    if tracer is not None:
        tracer[0].join()
    background = time.perf_counter() - switched
    time.sleep(max(0.0, pause - background))
    clicked = time.perf_counter()
    wb.trainer.step_button.click()
    first = time.perf_counter() - clicked
    wb.trainer.all_ops.value = away
    wb.session._join_tracer()
    wb.trainer.all_ops.value = op
    clicked = time.perf_counter()
    wb.trainer.step_button.click()
    again = time.perf_counter() - clicked
    return (f"switch {1000 * (switched - start):4.0f}  background {1000 * background:4.0f}  "
            f"first step {pause:g} s later {1000 * first:4.0f}  "
            f"step at once after switching back {1000 * again:4.0f}")

if __name__ == "__main__":
    main()
