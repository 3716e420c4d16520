"""How long a Step click takes to update the visible view of the workbench (no browser: the
kernel's share, from the click to every visible view redrawn), per structure and visible tab.

    python benchmarks/bench_widget_step.py
    python benchmarks/bench_widget_step.py --presets classroom dgcspn --repeats 5

Prints the median milliseconds over `--repeats` clicks after two warm-up clicks per tab.
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
        wb.close()


if __name__ == "__main__":
    main()
