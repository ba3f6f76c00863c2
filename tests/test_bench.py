"""The benchmark scripts run and print what the README says they print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_floor_prints_each_stage_and_a_floor_that_is_their_sum() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "floor.py"), "--n", "40", "--runs", "1", "--jobs", "2"], capture_output=True, text=True, check=True, timeout=300
    )
    stages = dict(re.findall(r"^stage=(\w+) n=40 cpu_s=([\d.]+)$", done.stdout, re.M))
    assert set(stages) == {"read", "front_matter", "front_matter_ours", "markdown", "templates", "write"}, done.stdout
    seconds = {name: float(value) for name, value in stages.items()}
    assert seconds["templates"] > 0 and seconds["markdown"] > 0
    floor = re.search(r"^floor n=40 cpu_s=([\d.]+) cores=2 wall_s=([\d.]+)$", done.stdout, re.M)
    assert floor is not None, done.stdout
    cheaper = min(seconds["front_matter"], seconds["front_matter_ours"])
    total = seconds["read"] + cheaper + seconds["markdown"] + seconds["templates"] + seconds["write"]
    assert abs(float(floor.group(1)) - total) < 0.02
    assert abs(float(floor.group(2)) - float(floor.group(1)) / 2) < 0.01
    cold = re.search(r"^cold n=40 median_s=([\d.]+) floor_ratio=([\d.]+)$", done.stdout, re.M)
    assert cold is not None and float(cold.group(1)) > 0, done.stdout
