"""Reports people publish: `report --format html` (one self-contained page) and
`--format markdown` (a pull-request comment); the treemap layout they and the window share."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.cli.open_cmd import sample_archive
from layerscope.load import load
from layerscope.markdown_report import code
from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import Change, FileSystem
from layerscope.view.tree import FilesystemSizes, LayerView, TreeMode
from layerscope.view.treemap import (
    MAX_CHILDREN,
    Colouring,
    layout,
    tile_at,
    tile_colour,
    walk,
    wasted_sizes,
)
from tests import builders as b

# A file name from an archive (no "/": that would be a directory); `</script>` across
# components is tried below.
HOSTILE = '<script>alert("x")<\\script>|`**b**`[l](javascript:x)@types'


class _Page(HTMLParser):
    """Collects what a page would load from elsewhere, its scripts and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "srcset", "data", "action", "poster"):
            value = a.get(key) or ""
            if value and not value.startswith("#"):
                self.external.append(f"{tag} {key}={value}")
        if tag == "link":
            self.external.append(f"link {a}")
        if tag == "script":
            self._script = a

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts.append((self._script, data))
        else:
            self.text.append(data)


def hostile_archive(tmp_path: Path) -> Path:
    image = b.Image(
        [
            b.Layer(b.layer_tar([b.file(f"srv/{HOSTILE}.txt", b"x" * 700)])),
            b.Layer(b.layer_tar([b.whiteout(f"srv/{HOSTILE}.txt")])),
        ],
        history=[
            {"created_by": f"/bin/sh -c echo '{HOSTILE}' > /srv/x"},
            {"created_by": "/bin/sh -c rm -f /srv/*<img src=x onerror=alert(1)>"},
        ],
        tags=["evil/img:1"],
    )
    path = tmp_path / "hostile.tar"
    b.write_docker_archive(path, [image], style="podman")
    return path


def render(capsys, *args: str) -> str:
    code_ = main(["report", "-q", *args])
    out, err = capsys.readouterr()
    assert code_ == 0, err
    return out


# -- HTML -------------------------------------------------------------------------------------


def test_html_is_one_self_contained_page(capsys, tmp_path):
    out = tmp_path / "report.html"
    assert render(capsys, sample_archive(), "--format", "html", "--output", str(out)) == ""
    html = out.read_text()
    page = _Page()
    page.feed(html)
    assert page.external == []
    assert "@import" not in html
    assert "url(" not in html
    # nothing is fetched: the only URL is the SVG namespace the script creates elements in
    assert re.findall(r"https?://[^\s\"']*", html) == ["http://www.w3.org/2000/svg"]
    text = " ".join(page.text)
    for heading in ("Layers", "Where the bytes are", "Wasted files", "Packages per layer"):
        assert heading in text
    assert "/tmp/build-cache.bin" in text
    # a live/dead bar per layer, widths relative to the largest layer (1.89 MiB, layer 0)
    bars = re.findall(r'<span class="live" style="width:([\d.]+)%"></span>'
                      r'<span class="dead" style="width:([\d.]+)%"></span>', html)  # fmt: skip
    assert len(bars) == 11
    assert float(bars[0][0]) + float(bars[0][1]) == pytest.approx(100.0)
    assert float(bars[2][0]) == 0.0  # layer 2 ships only what layer 3 deletes
    data = next(json.loads(body) for attrs, body in page.scripts if attrs.get("type"))
    root = data["views"][0]
    assert root["path"] == "/"
    assert root["size"] == sum(t[6] for t in root["tiles"] if t[4] == 0)
    assert {t[5] for t in root["tiles"]} >= {"bin", "bin/busybox", "srv", "2 more"}


def test_html_escapes_everything_from_the_archive(capsys, tmp_path):
    html = render(capsys, str(hostile_archive(tmp_path)), "--format", "html")
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;\\script&gt;|" in html  # the wasted-file path
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the command
    page = _Page()
    page.feed(html)
    assert page.external == []
    # the treemap's data island: still one script element, and the name round-trips
    islands = [body for attrs, body in page.scripts if attrs.get("type") == "application/json"]
    assert len(islands) == 1
    assert "</" not in islands[0]
    names = {t[5] for view in json.loads(islands[0])["views"] for t in view["tiles"]}
    assert all(HOSTILE not in n for n in names)  # deleted: not in the final filesystem
    kept = b.Image([b.Layer(b.layer_tar([b.file(f"srv/{HOSTILE}</script>.txt", b"y" * 9)]))])
    # (the name is a directory `{HOSTILE}<` holding `script>.txt`: `</script>` in the path)
    path = tmp_path / "kept.tar"
    b.write_docker_archive(path, [kept], style="podman")
    page = _Page()
    page.feed(render(capsys, str(path), "--format", "html"))
    island = next(body for attrs, body in page.scripts if attrs.get("type"))
    names = {t[5] for view in json.loads(island)["views"] for t in view["tiles"]}
    assert f"{HOSTILE}</script>.txt" in names  # in the view of /srv


def test_html_of_several_images_has_shared_layers(corpus, capsys):
    html = render(capsys, str(corpus / "podman/multi-docker.tar"), "--format", "html")
    assert html.count('<section class="image"') == 2
    assert 'id="shared"' in html
    assert "sharing saves" in html


# -- Markdown ---------------------------------------------------------------------------------


def _cells(line: str) -> int:
    """Table cells of a GitHub table row: pipes not escaped with a backslash."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_for_a_pull_request_comment(capsys):
    md = render(capsys, sample_archive(), "--format", "markdown")
    lines = md.splitlines()
    assert lines[0] == "### Image 0: ` localhost/lscorpus/app:1 `"
    # dive's user-wasted ratio is 0.99973: it never reads as 100.0%
    assert "| 3.14 MiB | 11 | 60.2% | 1.25 MiB | 68.2% | 1.25 MiB | 99.97% |" in lines
    rows = [line for line in lines if re.match(r"\| \d+ \| ", line)]
    assert [_cells(r) for r in rows[:11]] == [7] * 11  # the layers, no packages column
    assert "| 512 KiB | ` /tmp/build-cache.bin ` | layer 2 | deleted in layer 3 |" in lines
    assert "… and 6 more" in lines
    assert len(md) < 10_000  # sized for a comment


def test_markdown_escapes_everything_from_the_archive(capsys, tmp_path):
    md = render(capsys, str(hostile_archive(tmp_path)), "--format", "markdown")
    for line in md.splitlines():
        if line.startswith("|"):
            assert _cells(line) in (4, 7), line  # every row keeps its table's cell count
    # every archive string sits inside a code span: no tag, link, emphasis or mention
    outside = re.sub(r"(`+) .*? \1", "", md)
    assert "<script>" not in outside
    assert "<img" not in outside
    assert "@types" not in outside
    assert "](javascript" not in outside


def test_code_spans():
    assert code("a|b") == "` a\\|b `"
    assert code("has `one` tick") == "`` has `one` tick ``"
    assert code("x``y") == "``` x``y ```"
    assert code("two\nlines\x1b") == "` two lines  `"
    assert code("a" * 50, 10) == "` aaaaaaaaa… `"


# -- report options ---------------------------------------------------------------------------


def test_format_json_is_the_contract(capsys):
    a = render(capsys, sample_archive(), "--format", "json")
    assert a == render(capsys, sample_archive(), "--json")
    assert json.loads(a)["schema"] == "layerscope.report/1"


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--output", "."], "--output .: is a directory"),
        (["--output", "no/such/dir/r.html"], "no such directory no/such/dir"),
        (["--json", "--format", "html"], "choose one"),
        (["--top", "-1"], "--top: must be 0 or more"),
    ],
)
def test_output_errors_are_one_line(capsys, tmp_path, monkeypatch, args, phrase):
    monkeypatch.chdir(tmp_path)
    code_ = main(["report", "-q", sample_archive(), "--format", "html", *args])
    _, err = capsys.readouterr()
    assert code_ == 2
    assert phrase in err
    assert list(tmp_path.iterdir()) == []


# -- the treemap layout -----------------------------------------------------------------------


def _fs(files: dict[str, int], later: list[list[Entry]] = ()) -> FileSystem:
    fs = FileSystem()
    fs.apply([Entry(path, Kind.FILE, size, 0o644) for path, size in files.items()])
    for entries in later:
        fs.apply(entries)
    return fs


def test_tiles_fill_the_box_in_proportion():
    files = {f"/d/f{i}": 100 * (i + 1) for i in range(8)} | {"/e/big": 3600, "/top": 900}
    fs = _fs(files)
    view = LayerView(fs, 0, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    tiles = layout(view, fs.root, 400, 300, depth=2, min_area=1)
    top = [t for t in tiles]
    total = sum(files.values())
    assert sum(t.area for t in top) == pytest.approx(400 * 300)
    for t in top:
        assert t.area == pytest.approx(400 * 300 * t.size / total)
        assert (t.x >= 0, t.y >= 0) == (True, True)
        assert (t.x + t.w <= 400.001, t.y + t.h <= 300.001) == (True, True)
    for i, a in enumerate(top):  # siblings never overlap
        for c in top[i + 1 :]:
            overlap_w = min(a.x + a.w, c.x + c.w) - max(a.x, c.x)
            overlap_h = min(a.y + a.h, c.y + c.h) - max(a.y, c.y)
            assert overlap_w <= 1e-6 or overlap_h <= 1e-6
    d = next(t for t in top if t.name == "d")
    assert d.is_dir
    assert len(d.children) == 8
    for child in d.children:  # inside the directory, below its name strip
        assert (child.x >= d.x, child.y >= d.y + 13) == (True, True)
        assert child.x + child.w <= d.x + d.w + 1e-6
    assert tile_at(tiles, d.children[0].x + 1, d.children[0].y + 1) is d.children[0]


def test_a_huge_directory_costs_one_tile_for_the_rest():
    fs = _fs({f"/many/f{i:05d}": 10 + i for i in range(5000)})
    view = LayerView(fs, 0, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    tiles = layout(view, fs.root, 800, 600, depth=3)
    (many,) = tiles
    assert len(many.children) <= MAX_CHILDREN + 1
    rest = many.children[-1]
    assert rest.node is None
    assert rest.more == 5000 - (len(many.children) - 1)
    assert sum(t.size for t in many.children) == many.size
    assert len(walk(tiles)) <= 1 + MAX_CHILDREN + 1


def test_colours_by_change_waste_and_layer(tmp_path):
    a = load([sample_archive()])
    image, waste = a.images[0], a.waste[0]
    fs = image.filesystem
    view = LayerView(fs, 2, TreeMode.CHANGES)
    wasted = wasted_sizes(fs, waste, 2, TreeMode.CHANGES)
    tiles = walk(layout(view, fs.root, 600, 400, wasted=wasted, min_area=1))
    cache = next(t for t in tiles if t.name == "build-cache.bin")
    assert cache.status is Change.ADDED
    assert cache.wasted == cache.size == 524288
    assert tile_colour(cache, Colouring.CHANGE) == (76, 175, 80)
    assert tile_colour(cache, Colouring.WASTE) == (229, 57, 53)  # all of it wasted
    assert tile_colour(cache, Colouring.LAYER) == (44, 160, 44)  # layer 2's hue
    # at the last layer, in the filesystem, nothing shown is wasted
    last = len(image.layers) - 1
    view = LayerView(fs, last, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    final = walk(layout(view, fs.root, 600, 400, min_area=1,
                        wasted=wasted_sizes(fs, waste, last, TreeMode.FILESYSTEM)))  # fmt: skip
    assert all(t.wasted == 0 for t in final)
    assert all(t.status is not Change.DELETED for t in final)
