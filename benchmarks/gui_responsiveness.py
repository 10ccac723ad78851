"""How long does the window stall the event loop on big images? Prints medians; never asserts.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_responsiveness.py [--runs 3] [--no-dups]
                                                                      [--archive BIG.tar]

A 5 ms QTimer heartbeat runs while each action happens; the longest gap between two ticks
(less the 5 ms) is how long the window could not repaint or take a key. Below ~100 ms a
user does not notice. Actions, on the 180,000-file benchmark image of synthetic.py
(built once under benchmarks/.cache/, as `make bench` builds it):

  open           from File > Open until the image is shown (the load runs in a worker)
  switch layer   every layer, in Layer changes and in Filesystem at layer mode
  switch tab     to each tab and back to Files (until what the tab computes in a worker,
                 the Size Map's layout or the Compare diff, is shown)
  filter         typing a filter (applied), and clearing it
  expand all     Ctrl+E on the biggest layer's changes
  close          closing the window with the image open

and, unless --no-dups, the same on an image with two groups of 90,000 identical files (the
Wasted Space tab's duplicates table). The baseline is the heartbeat with nothing to do,
measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# an empty cache of our own: "open" is a first open, and the user's cache is left alone
os.environ.setdefault("LAYERSCOPE_CACHE_DIR", tempfile.mkdtemp(prefix="layerscope-bench-"))

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import synthetic  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from layerscope.gui.app import configure  # noqa: E402
from layerscope.gui.main_window import MainWindow, Tab  # noqa: E402
from layerscope.view.tree import TreeMode  # noqa: E402
from tests.gui.heartbeat import Heartbeat, spin  # noqa: E402

CACHE = REPO / "benchmarks" / ".cache"
DUPS = CACHE / "dups-2x90k.tar"


def build_dups(path: Path = DUPS, per_group: int = 90_000) -> Path:
    """One layer with two groups of `per_group` identical files, streamed to disk."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    layer_path = path.with_suffix(".layer.tar")
    import hashlib
    import json

    digest = hashlib.sha256()
    with open(layer_path, "wb") as raw:

        class Tee(io.RawIOBase):
            def write(self, b: bytes) -> int:  # type: ignore[override]
                digest.update(b)
                return raw.write(b)

            def writable(self) -> bool:
                return True

        with tarfile.open(fileobj=Tee(), mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for group, data in enumerate((b"a" * 100, b"b" * 300)):
                for d in range(per_group // 1000):
                    info = tarfile.TarInfo(f"data/g{group}/d{d:03d}")
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                    for i in range(1000):
                        info = tarfile.TarInfo(f"data/g{group}/d{d:03d}/copy{i:04d}.bin")
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
    diff_id = "sha256:" + digest.hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "/bin/sh -c copy the same two files 90,000 times"}],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["bench/dups:1"], "Layers": ["layer.tar"]}]
    ).encode()
    with tarfile.open(path, "w") as out:
        out.add(layer_path, arcname="layer.tar")
        for name, data in ((config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    layer_path.unlink()
    return path


class Run:
    def __init__(self, app: QApplication, heart: Heartbeat):
        self.app = app
        self.heart = heart
        self.results: dict[str, list[float]] = {}

    def record(self, name: str, stall: float) -> None:
        self.results.setdefault(name, []).append(stall)

    def measure(self, name: str, action: Callable[[], object], **kw: object) -> None:
        self.record(name, self.heart.measure(action, **kw))  # type: ignore[arg-type]

    def image(self, path: Path, label: str) -> None:
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        spin(200)
        loaded: list[bool] = []
        window.loadFinished.connect(lambda: loaded.append(True))
        self.measure(
            f"{label}: open", lambda: window.open_paths([str(path)]), until=lambda: bool(loaded)
        )
        layers = len(window.analysis.images[0].layers)
        for mode in (TreeMode.CHANGES, TreeMode.FILESYSTEM):
            window.set_mode(mode)
            spin(100)
            stalls = []
            for k in [*range(layers), 0]:
                stalls.append(self.heart.measure(lambda k=k: window.select_layer(k)))
            self.record(f"{label}: switch layer ({mode.value}, worst of {layers + 1})", max(stalls))
        window.set_mode(TreeMode.CHANGES)
        window.select_layer(0)
        spin(100)

        def settled() -> bool:  # what a tab computes in a worker when shown is in place
            return not window.size_map.treemap.laying_out and not (
                window.tabs.currentIndex() == Tab.COMPARE and window.compare.comparing
            )

        for tab in range(1, window.tabs.count()):
            name = window.tabs.tabText(tab)
            self.measure(
                f"{label}: switch tab to {name}", lambda t=tab: window.show_tab(t), until=settled
            )
            self.measure(f"{label}: switch tab back to Files", lambda: window.show_tab(Tab.FILES))

        def type_filter(text: str) -> None:
            window.files.filter_edit.setText(text)
            window.files.apply_filter()

        def filtered(text: str) -> Callable[[], bool]:
            return lambda: window.files.model.filter_text == text  # a worker may match it

        self.measure(
            f"{label}: filter 'copy12'", lambda: type_filter("copy12"), until=filtered("copy12")
        )
        self.measure(f"{label}: clear the filter", lambda: type_filter(""), until=filtered(""))
        self.measure(f"{label}: expand all (layer 0 changes)", window.expand_all)
        self.measure(f"{label}: collapse all", window.collapse_all)
        self.measure(f"{label}: close the window", window.close)
        window.deleteLater()
        spin(100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-dups", action="store_true", help="skip the duplicates image")
    parser.add_argument("--archive", type=Path, help="the 180,000-file image, if built elsewhere")
    args = parser.parse_args()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    configure(app)
    t = time.perf_counter()
    big = args.archive or synthetic.big_image(CACHE)["docker"]
    images = [(big, "180k files")]
    if not args.no_dups:
        images.append((build_dups(), "2x90k duplicates"))
    print(f"images ready in {time.perf_counter() - t:.1f}s: {', '.join(str(p) for p, _ in images)}")
    heart = Heartbeat()
    run = Run(app, heart)
    for _ in range(args.runs):
        run.measure("baseline: idle event loop for 1 s", lambda: None, settle_ms=1000)
        for path, label in images:
            run.image(path, label)
    baseline = statistics.median(run.results.pop("baseline: idle event loop for 1 s"))
    width = max(len(name) for name in run.results)
    print(f"longest event-loop stall per action, median of {args.runs} run(s), in ms")
    print(f"{'baseline (idle loop, timer jitter)':<{width}}  {baseline:8.1f}")
    for name, stalls in run.results.items():
        median = statistics.median(stalls)
        print(f"{name:<{width}}  {median:8.1f}   {median / max(baseline, 0.1):7.0f}x baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
