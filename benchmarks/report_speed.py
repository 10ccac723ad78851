"""How fast is `layerscope report` on a big image? Prints medians; never asserts.

Builds (once, cached under benchmarks/.cache/) a docker-archive of 180,000 files over five
layers, about 900 MB, shaped like a real image: a base OS layer, a language runtime, the
app, a layer that rewrites 10,000 files (chmod -R style) and one that deletes a cache.

Times, in one run so the ratio holds on a noisy shared machine:
  baseline  Python's tarfile listing every member of every layer (the least any reader does)
  report    `layerscope report --json` end to end (parse, hash, stack, analyse, print)
and prints the medians, the ratio and the peak memory of the report process.

    python benchmarks/report_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
ARCHIVE = CACHE / "big-180k-v2.tar"
MiB = 1024 * 1024

# (files, average size) per layer; the fourth rewrites, the fifth deletes.
PLAN = [(100_000, 4_000), (40_000, 6_000), (25_000, 6_000), (10_000, 5_000), (5_000, 4_000)]


def _layer(entries: list[tuple[str, int]], blob: bytes, whiteouts: list[str] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for name, size in entries:
            parent = name.rsplit("/", 1)[0]
            parts = parent.split("/")
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d + "/")
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
            info = tarfile.TarInfo(name)
            info.size = size
            start = hash(name) % (len(blob) - size)
            tar.addfile(info, io.BytesIO(blob[start : start + size]))
        for w in whiteouts:
            head, _, base = w.rpartition("/")
            info = tarfile.TarInfo(f"{head}/.wh.{base}")
            tar.addfile(info)
    return buf.getvalue()


def build() -> Path:
    if ARCHIVE.exists():
        return ARCHIVE
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    blob = rng.randbytes(64 * MiB)
    layers: list[bytes] = []
    base = [
        (f"usr/lib/pkg{i // 400}/mod{i % 400 // 20}/file{i}.so", rng.randint(1, 2 * PLAN[0][1]))
        for i in range(PLAN[0][0])
    ]
    layers.append(_layer(base, blob))
    runtime = [
        (f"opt/runtime/lib{i // 500}/m{i}.py", rng.randint(1, 2 * PLAN[1][1]))
        for i in range(PLAN[1][0])
    ]
    layers.append(_layer(runtime, blob))
    app = [
        (f"srv/app/node_modules/p{i // 100}/f{i}.js", rng.randint(1, 2 * PLAN[2][1]))
        for i in range(PLAN[2][0])
    ]
    layers.append(_layer(app, blob))
    layers.append(_layer(runtime[: PLAN[3][0]], blob))  # chmod -R: same files again
    cache = [(f"var/cache/build/c{i}.o", rng.randint(1, 2 * PLAN[4][1])) for i in range(PLAN[4][0])]
    layers.append(_layer(cache, blob, whiteouts=["srv/app/node_modules/p0"]))

    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-01-01T00:00:00Z",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(layers))],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(ARCHIVE, "w") as out:
        names = []
        for d, t in zip(diff_ids, layers, strict=True):
            name = d[7:] + ".tar"
            names.append(name)
            info = tarfile.TarInfo(name)
            info.size = len(t)
            out.addfile(info, io.BytesIO(t))
        for name, data in (
            (config_name, config),
            (
                "manifest.json",
                json.dumps(
                    [{"Config": config_name, "RepoTags": ["bench/big:1"], "Layers": names}]
                ).encode(),
            ),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return ARCHIVE


def baseline(path: Path) -> None:
    """List every member of every layer with tarfile: no hashing, no stacking."""
    with tarfile.open(path) as outer:
        for member in outer:
            if member.name.endswith(".tar"):
                with tarfile.open(fileobj=outer.extractfile(member), mode="r|") as layer:
                    for _ in layer:
                        pass


def run_report(path: Path) -> tuple[float, int]:
    """One `layerscope report --json` process, end to end: seconds and its peak RSS (KiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "layerscope", "report", "--json", "-q", str(path)],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    seconds = time.perf_counter() - t
    # RUSAGE_CHILDREN holds the largest peak of any finished child (KiB on Linux)
    return seconds, max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    t0 = time.perf_counter()
    path = build()
    print(
        f"archive: {path} ({os.path.getsize(path) / MiB:.0f} MiB, built/cached in "
        f"{time.perf_counter() - t0:.1f}s)"
    )
    base_times, report_times, peaks = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        baseline(path)
        base_times.append(time.perf_counter() - t)
        seconds, peak_kib = run_report(path)
        report_times.append(seconds)
        peaks.append(peak_kib)
    b, r = statistics.median(base_times), statistics.median(report_times)
    print(f"baseline tarfile listing   median {b:6.2f}s  runs {[round(x, 2) for x in base_times]}")
    print(
        f"layerscope report --json   median {r:6.2f}s  runs {[round(x, 2) for x in report_times]}"
    )
    print(f"ratio report/baseline      {r / b:.2f}")
    print(f"report peak RSS            {max(peaks) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
