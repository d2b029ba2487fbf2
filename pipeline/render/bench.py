"""The render benchmark: L6 against the peer baseline and the encoder floor, in one run.

L6 runs in a fresh process so its peak memory is its own. The baseline and the
floor are the fixed scripts in shared/bench/, run with the same Python.
"""
from __future__ import annotations

import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.context import LayerContext


def _render_child(workload: str, out: str, preset: str, crf: int, queue) -> None:
    from pipeline.layers.l6_assembly import render_video
    from pipeline.render.compositor import Compositor
    from pipeline.render.video import Encoder
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


def run(bench_dir: Path, *, preset: str = "veryfast", crf: int = 20, skip_baseline: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp) / "workload"
        subprocess.run([sys.executable, str(bench_dir / "make_workload.py"), str(work)], check=True, timeout=300)
        out = work / "l6.mp4"
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=_render_child, args=(str(work), str(out), preset, crf, queue))
        child.start()
        result = queue.get(timeout=1800)
        child.join()
        floor = _script(bench_dir, "encode_floor.py", out, timeout=900)
        result["floor_s"] = floor["encode_s"]
        result["l6_over_floor"] = round(result["l6_s"] / floor["encode_s"], 3)
        if not skip_baseline:
            baseline = _script(bench_dir, "naive_moviepy_reel.py", work, Path(tmp) / "naive.mp4", timeout=1800)
            result["baseline_s"] = baseline["render_s"]
            result["baseline_over_l6"] = round(baseline["render_s"] / result["l6_s"], 3)
    return {key: result.get(key) for key in ("l6_s", "baseline_s", "floor_s", "l6_over_floor", "baseline_over_l6",
                                             "l6_peak_rss_mb", "frames")}
