"""How long does opening one file of a big layer take? (issue #9: under 1 s everywhere)

    python benchmarks/file_open.py [--runs 3]

On the 180,000-file benchmark image (benchmarks/synthetic.py; built once into
benchmarks/.cache/) in its docker-archive, gzip and zstd oci-archive forms: the biggest
layer's first, middle and last file, read the way the window's viewer reads one (a first
page of the file):

  cold   the first file opened in a fresh process (it opens the archive again, and nothing
         is remembered from an earlier read);
  warm   the same file opened again in that process: a gzip layer now starts from the seek
         points the first read remembered.

Prints the median over --runs processes of each, and PASS/FAIL against 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

PAGE = 256 * 1024
TARGET = 1.0  # seconds


def _probe(archive: str, where: str) -> None:
    """One process: load, then open one file twice; print JSON on stdout."""
    from layerscope.archive.content import ImageContent
    from layerscope.load import load
    from layerscope.model.entry import Kind

    image = load([archive]).images[0]
    biggest = max(image.layers, key=lambda layer: layer.tar_bytes)
    files = [e for e in biggest.entries if e.kind == Kind.FILE and e.size]
    entry = {"start": files[0], "middle": files[len(files) // 2], "end": files[-1]}[where]
    times: dict[str, float] = {}
    with ImageContent(image) as content:
        for rnd in ("cold", "warm"):
            t = time.perf_counter()
            content.read(entry, length=PAGE)
            times[f"{rnd} {where}"] = time.perf_counter() - t
    info = {
        "layer": biggest.index,
        "layer_mib": biggest.tar_bytes / 2**20,
        "compression": biggest.compression,
        "times": times,
    }
    sys.stdout.write(json.dumps(info) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--where", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        _probe(args.probe, args.where)
        return 0
    import synthetic

    forms = synthetic.big_image(HERE / ".cache")
    failed = 0
    for form, path in forms.items():
        runs: list[dict[str, object]] = []
        for _ in range(args.runs):
            times: dict[str, float] = {}
            for where in ("start", "middle", "end"):
                out = subprocess.run(
                    [sys.executable, __file__, "--probe", str(path), "--where", where],
                    check=True,
                    capture_output=True,
                ).stdout
                info = json.loads(out)
                times.update(info["times"])
            runs.append(dict(info, times=times))
        first: dict[str, Any] = runs[0]
        print(
            f"{form}: layer {first['layer']} ({first['layer_mib']:.0f} MiB, "
            f"{first['compression']}), medians of {args.runs} processes"
        )
        for key in first["times"]:
            median = statistics.median(r["times"][key] for r in runs)  # type: ignore[index]
            verdict = "PASS" if median <= TARGET else "FAIL"
            failed += verdict == "FAIL"
            print(f"  {key:<14} {median * 1000:7.0f} ms   {verdict} (target <= {TARGET:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
