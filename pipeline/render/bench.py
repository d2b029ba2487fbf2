"""The render benchmark: L6 against the peer baseline and the encoder floor, in one run.

L6 runs in a fresh process so its peak memory is its own. The baseline and the
floor are the fixed scripts in shared/bench/, run with the same Python. L6 and
the floor run as three pairs and the medians are printed.
"""
from __future__ import annotations

import json
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

from pipeline.context import LayerContext


def _render_child(workload: str, out: str, preset: str, crf: int, queue) -> None:
    from pipeline.layers.l6_assembly import render_video
    from pipeline.render.compositor import Compositor
    from pipeline.render.profiles import Encoder
    from pipeline.render.workload import plan_from_workload

    work = Path(workload)
    plan = plan_from_workload(work)
    started = time.perf_counter()
    ctx = LayerContext(job_id="bench", layer="L6", work_dir=work)
    output = render_video(plan, Compositor(plan, work), ctx, Path(out), Encoder(preset=preset, crf=crf))
    elapsed = time.perf_counter() - started
    queue.put({"l6_s": round(elapsed, 3), "frames": output.frames,
               "l6_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


def _script(bench_dir: Path, name: str, *args, timeout: float) -> dict:
    done = subprocess.run([sys.executable, str(bench_dir / name), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _render_l6(work: Path, out: Path, preset: str, crf: int, timeout_s: float = 1800) -> dict:
    """L6 in a fresh process (its peak memory is its own). A child that dies is reported, not waited for."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_render_child, args=(str(work), str(out), preset, crf, queue))
    child.start()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                return queue.get(timeout=1.0)
            except Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the L6 render process died (exit code {child.exitcode})") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the L6 render took longer than {timeout_s:.0f} s") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def run(bench_dir: Path, *, preset: str = "veryfast", crf: int = 20, skip_baseline: bool = False,
        pairs: int = 3) -> dict:
    """`pairs` times L6 then the floor on L6's file; the figures are the medians of the pairs (one noisy moment
    does not decide them). The baseline runs once. Each L6 run starts with an empty scene cache."""
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp) / "workload"
        subprocess.run([sys.executable, str(bench_dir / "make_workload.py"), str(work)], check=True, timeout=300)
        out = work / "l6.mp4"
        runs = []
        for _ in range(pairs):
            shutil.rmtree(work / "L6", ignore_errors=True)  # cold: nothing reused from the run before
            result = _render_l6(work, out, preset, crf)
            floor = _script(bench_dir, "encode_floor.py", out, timeout=900)
            runs.append({**result, "floor_s": floor["encode_s"],
                         "l6_over_floor": round(result["l6_s"] / floor["encode_s"], 3)})
        median = {key: statistics.median(run[key] for run in runs)
                  for key in ("l6_s", "floor_s", "l6_over_floor", "l6_peak_rss_mb")}
        median["frames"] = runs[0]["frames"]
        median["l6_over_floor_each"] = [run["l6_over_floor"] for run in runs]
        if not skip_baseline:
            baseline = _script(bench_dir, "naive_moviepy_reel.py", work, Path(tmp) / "naive.mp4", timeout=1800)
            median["baseline_s"] = baseline["render_s"]
            median["baseline_over_l6"] = round(baseline["render_s"] / median["l6_s"], 3)
    return {key: median.get(key) for key in ("l6_s", "baseline_s", "floor_s", "l6_over_floor", "baseline_over_l6",
                                             "l6_peak_rss_mb", "frames", "l6_over_floor_each")}
