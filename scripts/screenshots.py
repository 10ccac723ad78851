"""Regenerate the PNGs in screenshots/ from the real GUI, rendered offscreen.

    python scripts/screenshots.py [--corpus ../shared/corpus] [--out screenshots]

Each shot opens archives through the real loader (the same worker the app uses), selects
what it shows, and grabs the window at 1400x900. Settings are isolated in a temporary
folder so your recent files and window layout are neither used nor changed.
hidpi-2x.png is taken by a child process at QT_SCALE_FACTOR=2 on a 1680x1050 screen.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def offscreen_screen(width: int, height: int) -> str:
    """The offscreen platform with one screen of this size (its own is 800x600)."""
    screen = Path(tempfile.mkdtemp(prefix="layerscope-screen-")) / "screen.json"
    screen.write_text(
        f'{{"screens": [{{"name": "s", "x": 0, "y": 0, "width": {width}, "height": {height}}}]}}'
    )
    return f"offscreen:configfile={screen}"


# A cache of our own: the user's (shared with other layerscope versions) is left alone.
os.environ.setdefault("LAYERSCOPE_CACHE_DIR", tempfile.mkdtemp(prefix="layerscope-shots-cache-"))

if "QT_QPA_PLATFORM" not in os.environ:
    # a desktop-sized screen, so the 1400x900 shots are not clamped to the window's screen
    os.environ["QT_QPA_PLATFORM"] = offscreen_screen(1920, 1200)

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from layerscope.gui import app as gui_app  # noqa: E402
from layerscope.gui.main_window import MainWindow, Tab  # noqa: E402
from layerscope.gui.models.waste import WasteCol  # noqa: E402
from layerscope.gui.widgets import viewer  # noqa: E402
from layerscope.view.tree import TreeMode  # noqa: E402
from layerscope.view.treemap import Colouring  # noqa: E402

SIZE = (1400, 900)
DEMO = "@demo"  # the image demo_debian_archive() builds (packages to show)
Deb = tuple[Any, dict[str, int]]  # a builders.DebPackage and its files (path -> KiB)


def wait(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def open_window(paths: list[Path]) -> MainWindow:
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    loop = QEventLoop()
    window.loadFinished.connect(loop.quit)
    window.loadFailed.connect(lambda message: sys.exit(f"cannot open: {message}"))
    remaining = [len(paths)]

    def done() -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            loop.quit()

    window.loadFinished.disconnect(loop.quit)
    window.loadFinished.connect(done)
    if paths:
        window.open_paths([str(p) for p in paths])
        loop.exec()
    wait()
    return window


def shoot(window: MainWindow, out: Path, name: str) -> None:
    window.statusBar().clearMessage()
    wait()
    path = out / name
    window.grab().save(str(path))
    sys.stdout.write(f"wrote {path}\n")


def wait_for(signal: object, timeout_ms: int = 10_000) -> None:
    """Run the event loop until `signal` fires (a background read or diff is done)."""
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)  # type: ignore[attr-defined]
    wait()


def compare_images(window: MainWindow) -> None:
    window.compare_sides(0, len(window.analysis.images[0].layers) - 1, 1,
                         len(window.analysis.images[1].layers) - 1)  # fmt: skip
    wait_for(window.compare.compared)
    index = window.compare.model.index_for_path("/etc/passwd")
    window.compare.tree.setCurrentIndex(index)
    wait_for(window.compare.textShown)


def show_file(window: MainWindow, layer: int, path: str, mode: int | None = None) -> None:
    """The Files tab at `layer`, `path` selected, its contents below (in `mode`)."""
    window.select_layer(layer)
    window.files.set_mode(TreeMode.CHANGES)
    window.tabs.setCurrentIndex(Tab.FILES)
    window.files.reveal(path)
    window.files.show_contents_tab()
    wait_for(window.files.viewer.shown)
    if mode is not None:
        window.files.viewer.set_mode(mode)
    window.files.splitter.setSizes([330, 470])


def viewer_diff(window: MainWindow) -> None:
    show_file(window, 4, "/etc/passwd", viewer.DIFF)  # what layer 4 changed


def viewer_text(window: MainWindow) -> None:
    show_file(window, 1, "/srv/app/site/index.html")


def viewer_hex(window: MainWindow) -> None:
    show_file(window, 0, "/bin/busybox", viewer.HEX)


def main_layer(window: MainWindow) -> None:
    window.select_layer(7)
    window.files.set_mode(TreeMode.CHANGES)
    window.tabs.setCurrentIndex(Tab.FILES)
    window.files.reveal("/opt/tool/lib/libbig.so")


def filesystem(window: MainWindow) -> None:
    window.files.set_mode(TreeMode.FILESYSTEM)
    window.select_layer(10)
    window.tabs.setCurrentIndex(Tab.FILES)
    for path in ("/etc", "/srv/app/site", "/srv/app/data"):
        window.files.reveal(path)
        window.files.tree.expand(window.files.model.index_for_path(path))
    window.files.reveal("/etc/motd")


def waste(window: MainWindow) -> None:
    window.tabs.setCurrentIndex(Tab.WASTE)
    proxy = window.waste.model
    for row in range(proxy.rowCount()):
        if proxy.index(row, WasteCol.PATH).data() == "/tmp/build-cache.bin":
            window.waste.table.selectRow(row)
            break


def size_map(window: MainWindow) -> None:
    window.files.set_mode(TreeMode.FILESYSTEM)
    window.select_layer(2)
    window.tabs.setCurrentIndex(Tab.SIZE_MAP)
    boxes = window.size_map.colour_box
    boxes.setCurrentIndex(boxes.findData(Colouring.WASTE))
    wait(300)
    for _ in range(250):  # the map is laid out in a worker thread
        if not window.size_map.treemap.laying_out:
            break
        wait(20)


def packages(window: MainWindow) -> None:
    window.select_layer(1)
    window.tabs.setCurrentIndex(Tab.PACKAGES)
    wait(100)


def shared(window: MainWindow) -> None:
    window.select_image(0)
    window.tabs.setCurrentIndex(Tab.SHARED)
    window.select_layer(0)


def details(window: MainWindow) -> None:
    window.tabs.setCurrentIndex(Tab.IMAGE)
    window.select_layer(4)


def long_command(window: MainWindow) -> None:
    """longrun's layer 1: a 1.4 KB RUN line, one binary hardlinked 56 times."""
    window.files.set_mode(TreeMode.CHANGES)
    window.select_layer(1)
    window.tabs.setCurrentIndex(Tab.FILES)
    window.files.collapse_all()
    window.files.reveal("/usr/local/tool/bin/tool")
    window.files.tree.expand(window.files.model.index_for_path("/usr/local/tool/lib"))
    window.sidebar.setSizes([110, 150, 520])


def hidpi(window: MainWindow) -> None:
    window.files.set_mode(TreeMode.FILESYSTEM)
    window.select_layer(1)
    window.tabs.setCurrentIndex(Tab.FILES)
    window.files.reveal("/usr/local/tool/bin")


def filter_matches(window: MainWindow) -> None:
    window.files.set_mode(TreeMode.CHANGES)
    window.select_layer(6)
    window.tabs.setCurrentIndex(Tab.FILES)
    window.focus_filter()
    window.files.filter_edit.setText("libbig")
    window.files.apply_filter()
    window.files.reveal("/opt/tool/lib/libbig.so.1")


SHOTS: list[tuple[str, list[str], Callable[[MainWindow], None], str]] = [
    ("welcome.png", [], lambda window: None, "light"),
    ("main-layer-changes.png", ["podman/app-docker.tar"], main_layer, "light"),
    ("filesystem-at-layer.png", ["podman/app-docker.tar"], filesystem, "light"),
    ("wasted-space.png", ["podman/app-docker.tar"], waste, "light"),
    (
        "shared-layers.png",
        ["podman/multi-docker.tar", "podman/hello-multiarch-oci.tar"],
        shared,
        "light",
    ),
    ("image-details.png", ["podman/app-docker.tar"], details, "light"),
    ("long-command.png", ["podman/longrun-docker.tar"], long_command, "light"),
    ("filter-matches.png", ["podman/app-docker.tar"], filter_matches, "light"),
    ("hidpi-2x.png", ["podman/longrun-docker.tar"], hidpi, "light"),
    ("main-layer-changes-dark.png", ["podman/app-docker.tar"], main_layer, "dark"),
    ("compare-images.png", ["podman/multi-docker.tar"], compare_images, "light"),
    ("file-viewer-diff.png", ["podman/app-docker.tar"], viewer_diff, "light"),
    ("file-viewer-text.png", ["podman/app-docker.tar"], viewer_text, "light"),
    ("file-viewer-hex.png", ["podman/app-docker.tar"], viewer_hex, "light"),
    ("size-map.png", [DEMO], size_map, "light"),
    ("packages.png", [DEMO], packages, "light"),
]


ENGINE_IMAGES = ["podman/app-docker.tar", "podman/worker-docker.tar", "podman/longrun-docker.tar"]


def engine_dialog(corpus: Path, out: Path, name: str) -> None:
    """File > Open from Engine on a throwaway podman store holding three corpus images."""
    if shutil.which("podman") is None:
        sys.stdout.write(f"skipped {name}: podman is not installed\n")
        return
    store = Path(tempfile.mkdtemp(prefix="layerscope-shots-podman-"))
    conf = store / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{store}/graph"\nrunroot = "{store}/run"\n'
    )
    (store / "containers.conf").write_text('[engine]\nevents_logger = "none"\n')
    os.environ["CONTAINERS_STORAGE_CONF"] = str(conf)
    os.environ["CONTAINERS_CONF"] = str(store / "containers.conf")
    try:
        for archive in ENGINE_IMAGES:
            subprocess.run(
                ["podman", "load", "-q", "-i", str(corpus / archive)],
                check=True,
                capture_output=True,
            )
        window = open_window([])
        window.open_engine_dialog()
        dialog = window._engine_dialog
        assert dialog is not None
        loop = QEventLoop()
        dialog.listed.connect(loop.quit)
        QTimer.singleShot(20000, loop.quit)
        loop.exec()
        dialog.filter.setText("lscorpus")
        wait()
        path = out / name
        dialog.grab().save(str(path))
        sys.stdout.write(f"wrote {path}\n")
        dialog.reject()
        window.close()
        window.deleteLater()
        wait(50)
    finally:
        for key in ("CONTAINERS_STORAGE_CONF", "CONTAINERS_CONF"):
            os.environ.pop(key, None)
        shutil.rmtree(store, ignore_errors=True)


def registry_loading(corpus: Path, out: Path, name: str) -> None:
    """A registry image mid-load: pushed by skopeo to a real registry on 127.0.0.1 (Debian's
    docker-registry), opened in the window and held while its sixth layer blob streams, so
    the shot shows what the window knows before the blobs are read."""
    import threading

    import layerscope.gui.worker as worker_module
    from layerscope.remote import RemoteOptions
    from tests.remote.services import REGISTRY, SKOPEO, Registry

    if REGISTRY is None or SKOPEO is None:
        sys.stdout.write(f"skipped {name}: docker-registry or skopeo is not installed\n")
        return
    work = Path(tempfile.mkdtemp(prefix="layerscope-shots-registry-"))
    registry = Registry(work / "registry", work / "storage")
    real_load = worker_module.load
    release = threading.Event()
    reached = threading.Event()

    def held_load(paths, *, progress=None, cancel=None, **kwargs):  # type: ignore[no-untyped-def]
        def step(p: Any) -> None:
            if progress is not None:
                progress(p)
            if "layer 6 of" in p.stage and p.done > 0 and not reached.is_set():
                reached.set()
                while not release.wait(0.01) and not (cancel is not None and cancel()):
                    pass

        return real_load(paths, progress=step, cancel=cancel, **{**kwargs, "cache": None})

    try:
        registry.push(f"docker-archive:{corpus / 'podman' / 'app-docker.tar'}", "lscorpus/app:1")
        worker_module.load = held_load  # type: ignore[assignment]
        window = open_window([])
        window.open_paths(
            [f"registry://{registry.host}/lscorpus/app:1"],
            remote=RemoteOptions(insecure_registries=(registry.host,)),
        )
        while not reached.is_set():
            wait(20)
        wait(300)
        window.select_layer(5)
        window.show_tab(Tab.FILES)
        shoot(window, out, name)
        release.set()
        wait_for(window.loadFinished)
        window.close()
        window.deleteLater()
        wait(50)
    finally:
        release.set()
        worker_module.load = real_load  # type: ignore[assignment]
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


def demo_debian_archive(folder: Path) -> Path:
    """A small Debian-like image whose layers install, upgrade and remove packages (apt,
    pip) and COPY an app: the corpus has no package databases to show."""
    from tests import builders as b

    rng = random.Random(11)

    def blob(kib: int) -> bytes:
        return rng.randbytes(kib * 1024)

    def deb(name: str, version: str, files: dict[str, int], multi: bool = False) -> Deb:
        package = b.DebPackage(
            name, version, list(files), installed_kib=sum(files.values()), multi_arch_same=multi
        )
        return package, files

    lib = "/usr/lib/x86_64-linux-gnu"
    base = [
        deb("base-files", "12.4+deb12u5", {"/etc/debian_version": 1, "/usr/lib/os-release": 1}),
        deb("bash", "5.2.15-2+b7", {"/usr/bin/bash": 1240, "/usr/share/doc/bash/copyright": 9}),
        deb("coreutils", "9.1-1", {"/usr/bin/ls": 148, "/usr/bin/cp": 152, "/usr/bin/sort": 120}),
        deb(
            "libc6",
            "2.36-9+deb12u3",
            {
                f"{lib}/libc.so.6": 1900,
                f"{lib}/libm.so.6": 900,
                "/usr/lib/locale/C.utf8/LC_CTYPE": 340,
            },
            multi=True,
        ),
        deb(
            "libssl3",
            "3.0.11-1~deb12u2",
            {f"{lib}/libssl.so.3": 680, f"{lib}/libcrypto.so.3": 4500},
            True,
        ),
        deb("dpkg", "1.21.22", {"/usr/bin/dpkg": 320, "/usr/share/dpkg/cputable": 2}),
        deb(
            "tzdata",
            "2024a-0+deb12u1",
            {f"/usr/share/zoneinfo/{z}": 3 for z in ("UTC", "Europe/Paris", "Asia/Tokyo")},
        ),
        deb(
            "perl-base",
            "5.36.0-7+deb12u1",
            {"/usr/bin/perl": 3600, f"{lib}/perl-base/POSIX.pm": 40},
        ),
    ]
    apt = [
        deb("curl", "7.88.1-10+deb12u5", {"/usr/bin/curl": 260}),
        deb("libcurl4", "7.88.1-10+deb12u5", {f"{lib}/libcurl.so.4": 720}),
        deb("libnghttp2-14", "1.52.0-1+deb12u1", {f"{lib}/libnghttp2.so.14": 170}),
        deb("ca-certificates", "20230311", {"/etc/ssl/certs/ca-certificates.crt": 210}),
        deb(
            "python3.11-minimal",
            "3.11.2-6",
            {"/usr/bin/python3.11": 6700, "/usr/lib/python3.11/os.py": 40},
        ),
    ]
    ssl_new = deb("libssl3", "3.0.13-1~deb12u1", base[4][1], True)

    def files(pkgs: list[Deb]) -> list[b.Entry]:
        return [b.file(path.lstrip("/"), blob(k)) for _p, fs in pkgs for path, k in fs.items()]

    base_pk = [p for p, _ in base]
    apt_pk = [p for p, _ in apt]
    upgraded = [*base_pk[:4], ssl_new[0], *base_pk[5:]]
    site = "usr/local/lib/python3.11/site-packages"
    layers = [
        [b.symlink("lib", "usr/lib"), *files(base), *b.dpkg_entries(base_pk)],
        [
            *files(apt),
            *(
                b.file(f"var/cache/apt/archives/{p.name}_{p.version}_amd64.deb", blob(180))
                for p in apt_pk
            ),
            b.file(
                "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_Packages.lz4",
                blob(2900),
            ),
            *b.dpkg_entries(base_pk + apt_pk, lists=apt_pk),
        ],
        [
            *b.dist_info(
                site,
                "requests",
                "2.31.0",
                {"requests/__init__.py": blob(5), "requests/models.py": blob(35)},
            ),
            *b.dist_info(site, "urllib3", "2.2.1", {"urllib3/connectionpool.py": blob(40)}),
            *b.dist_info(site, "certifi", "2024.2.2", {"certifi/cacert.pem": blob(290)}),
            *b.dist_info(site, "idna", "3.6", {"idna/idnadata.py": blob(190)}),
            b.file("root/.cache/pip/http-v2/a/b/wheel", blob(1400)),
        ],
        [
            b.file("srv/app/server.py", blob(12)),
            b.file("srv/app/static/app.js", blob(420)),
            b.file("srv/app/static/logo.png", blob(96)),
        ],
        [*files([ssl_new]), *b.dpkg_entries(upgraded + apt_pk, lists=[ssl_new[0]])],
        [
            b.whiteout("usr/bin/curl"),
            b.whiteout("var/lib/dpkg/info/curl.list"),
            b.whiteout("var/cache/apt/archives"),
            *b.dpkg_entries(upgraded + apt_pk[1:], lists=[]),
        ],
    ]
    history = [
        "#(nop) ADD file:debian-bookworm-rootfs.tar.xz in /",
        "apt-get update && apt-get install -y curl ca-certificates python3.11-minimal",
        "pip install requests==2.31.0",
        "#(nop) COPY dir:app in /srv/app",
        "apt-get upgrade -y libssl3",
        "apt-get purge -y curl && rm -rf /var/cache/apt/archives",
    ]
    image = b.Image(
        [b.Layer(b.layer_tar(entries)) for entries in layers],
        tags=["example.com/demo/web:1.4"],
        history=[{"created_by": f"/bin/sh -c {h}"} for h in history],
    )
    path = folder / "demo-debian.tar"
    b.write_docker_archive(path, [image], style="podman")
    return path


def html_report(corpus: Path, out: Path, name: str) -> None:
    """`layerscope report --format html` of the app image, as headless Chromium shows it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.stdout.write(f"skipped {name}: chromium is not installed (apt-get install chromium)\n")
        return
    work = Path(tempfile.mkdtemp(prefix="layerscope-shots-html-"))
    try:
        page = work / "report.html"
        subprocess.run(
            [sys.executable, "-m", "layerscope", "report", "-q", "--format", "html",
             "--output", str(page), str((corpus / "podman/app-docker.tar").resolve())],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--hide-scrollbars", f"--user-data-dir={work / 'profile'}",
             f"--screenshot={out / name}", "--window-size=1400,1900", page.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip
        sys.stdout.write(f"wrote {out / name}\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--only", help="write only the shot with this file name")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    settings = tempfile.mkdtemp(prefix="layerscope-shots-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings)
    demo_dir = Path(tempfile.mkdtemp(prefix="layerscope-shots-demo-"))
    demo = demo_debian_archive(demo_dir)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    scaled = os.environ.get("QT_SCALE_FACTOR") == "2"
    for name, files, arrange, scheme in SHOTS:
        if args.only and args.only != name:
            continue
        if name == "hidpi-2x.png" and not scaled:
            # the scale factor is fixed when Qt starts: a process of its own, on a laptop
            # screen of 1680x1050 at 200 % (840x525 for the window)
            env = {
                **os.environ,
                "QT_SCALE_FACTOR": "2",
                "QT_QPA_PLATFORM": offscreen_screen(1680, 1050),
            }
            subprocess.run(
                [sys.executable, __file__, "--only", name, "--out", str(args.out),
                 "--corpus", str(args.corpus)],
                env=env,
                check=True,
            )  # fmt: skip
            continue
        os.environ["LAYERSCOPE_THEME"] = scheme
        gui_app.configure(app)
        # Each shot starts from no saved window state: a window closed before would
        # otherwise hand its splitter sizes to the next one, and shots would depend on order.
        QSettings().clear()
        window = open_window([demo if f == DEMO else args.corpus / f for f in files])
        arrange(window)
        shoot(window, args.out, name)
        window.close()
        window.deleteLater()
        wait(50)
    if not args.only or args.only == "html-report.png":
        html_report(args.corpus, args.out, "html-report.png")
    if not args.only or args.only == "open-from-engine.png":
        os.environ["LAYERSCOPE_THEME"] = "light"
        gui_app.configure(app)
        engine_dialog(args.corpus, args.out, "open-from-engine.png")
    if not args.only or args.only == "registry-loading.png":
        os.environ["LAYERSCOPE_THEME"] = "light"
        gui_app.configure(app)
        registry_loading(args.corpus, args.out, "registry-loading.png")
    shutil.rmtree(demo_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
