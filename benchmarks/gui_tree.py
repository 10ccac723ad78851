"""Time the GUI's lazy file tree on a synthetic 150,000-file image.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_tree.py [--files 150000] [--repeat 5]

The image is built directly with FileSystem.apply (no archive): layer 0 ships the files,
10,000 of them in one directory (/usr/share/big); later layers modify, delete and add some.
A real QTreeView (offscreen) shows the model, so the figures include what the view asks for
when it lays out its visible rows. Prints the median of each step in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QTreeView  # noqa: E402

from layerscope.gui.models.filetree import Col, FileTreeModel  # noqa: E402
from layerscope.model.entry import Entry, Kind  # noqa: E402
from layerscope.model.filesystem import Change, FileSystem  # noqa: E402
from layerscope.view.tree import TreeMode  # noqa: E402

BIG_DIR = "/usr/share/big"


def build(files: int, big: int = 10_000, layers: int = 8) -> FileSystem:
    fs = FileSystem()
    base: list[Entry] = []
    for d in ("/usr", "/usr/share", BIG_DIR):
        base.append(Entry(d, Kind.DIR, 0, 0o755))
    for i in range(big):
        base.append(Entry(f"{BIG_DIR}/file{i:05d}.dat", Kind.FILE, 1000 + i, 0o644))
    rest = files - big
    per_dir = 50
    for i in range(rest):
        top, mid, leaf = i // 5000, (i // per_dir) % 100, i % per_dir
        d = f"/opt/pkg{top:02d}/sub{mid:02d}"
        if leaf == 0:
            if mid == 0:
                base.append(Entry(f"/opt/pkg{top:02d}", Kind.DIR, 0, 0o755))
            base.append(Entry(d, Kind.DIR, 0, 0o755))
        base.append(Entry(f"{d}/f{leaf:02d}.py", Kind.FILE, 100 + i % 4000, 0o644))
    fs.apply(base)
    for k in range(1, layers):
        entries: list[Entry] = []
        for i in range(k, big, 97):  # modify some of the big directory
            entries.append(Entry(f"{BIG_DIR}/file{i:05d}.dat", Kind.FILE, 5000 + k, 0o644))
        entries.append(Entry(f"{BIG_DIR}/file{k:05d}.dat", Kind.WHITEOUT))
        entries.append(Entry(f"/opt/pkg{k:02d}/sub{k:02d}", Kind.WHITEOUT))
        for i in range(500):
            entries.append(Entry(f"/srv/layer{k}/new{i:03d}.txt", Kind.FILE, 10 + i, 0o644))
        fs.apply(entries)
    return fs


def median_ms(step: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None):
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    start = time.perf_counter()
    fs = build(args.files)
    count = sum(1 for _ in fs.iter_present())
    print(
        f"synthetic image: {count:,} paths, {fs.layers} layers "
        f"(built in {time.perf_counter() - start:.1f} s, not part of the GUI)"
    )

    view = QTreeView()
    view.setUniformRowHeights(True)
    view.resize(1000, 800)
    view.show()
    model = FileTreeModel()
    view.setModel(model)
    last = fs.layers - 1

    def settle() -> None:
        app.processEvents()
        view.viewport().repaint()

    results: dict[str, tuple[float, float, float]] = {}

    def create() -> None:
        model.set_filesystem(fs, (), layer=last)
        settle()

    for mode in (TreeMode.FILESYSTEM, TreeMode.CHANGES):
        model.set_mode(mode)
        results[f"model creation ({mode.value}, last layer)"] = median_ms(
            create, args.repeat, setup=lambda: model.set_filesystem(None)
        )

    model.set_mode(TreeMode.FILESYSTEM)
    model.set_filesystem(fs, (), layer=last)

    def reveal(path: str) -> None:
        index = model.index_for_path(path)
        chain = []
        while index.isValid():
            chain.append(index)
            index = index.parent()
        for index in reversed(chain):
            view.expand(index)

    def expand_big() -> None:
        reveal(BIG_DIR)
        index = model.index_for_path(BIG_DIR)
        view.scrollTo(model.index(5000, 0, index))
        settle()

    def collapse() -> None:
        model.set_filesystem(fs, (), layer=last)
        settle()

    results["expand /usr/share/big (10,000 entries)"] = median_ms(
        expand_big, args.repeat, setup=collapse
    )

    model.set_filesystem(fs, (), layer=0)
    expand_big()
    for mode in (TreeMode.FILESYSTEM, TreeMode.CHANGES):
        model.set_mode(mode)

        def switch(layer: list[int] = [0]) -> None:  # noqa: B006 - a counter across calls
            layer[0] = (layer[0] + 1) % fs.layers
            model.set_layer(layer[0])
            reveal(BIG_DIR)
            settle()

        results[f"switch layer ({mode.value}, big dir expanded)"] = median_ms(
            switch, args.repeat * 3
        )

    model.set_mode(TreeMode.FILESYSTEM)

    model.set_filter("")
    results["filter 'file12' (filesystem mode, 150k paths)"] = median_ms(
        lambda: (model.set_filter("file12"), settle()),
        args.repeat,
        setup=lambda: model.set_filter(""),
    )
    results["filter '*.py' glob (filesystem mode)"] = median_ms(
        lambda: (model.set_filter("*.py"), settle()),
        args.repeat,
        setup=lambda: model.set_filter(""),
    )
    model.set_filter("")
    results["hide unchanged (filesystem mode)"] = median_ms(
        lambda: (
            model.set_shown_changes({Change.ADDED, Change.MODIFIED, Change.DELETED}),
            settle(),
        ),
        args.repeat,
        setup=lambda: model.set_shown_changes(set(Change)),
    )
    model.set_shown_changes(set(Change))
    expand_big()
    results["sort by size, big dir expanded"] = median_ms(
        lambda: (model.sort(Col.SIZE), settle()),
        args.repeat,
        setup=lambda: model.sort(Col.NAME),
    )

    width = max(len(k) for k in results)
    print(f"{'step':<{width}}  median ms    min    max")
    for name, (med, lo, hi) in results.items():
        print(f"{name:<{width}}  {med:9.1f} {lo:6.1f} {hi:6.1f}")
    view.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
