"""The Qt-free view logic (layerscope/view): directory sizes with hardlinks, image names.

Directory sizes count each content (inode) once per directory, as `du DIR` does, in the
filesystem-at-layer view and in the layer-changes view, and agree with the layer header
(fs.counts), `layerscope report` and the waste analysis.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from layerscope.analysis import analyse
from layerscope.load import load
from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import Change, FileSystem, Node
from layerscope.view import tree as tree_module
from layerscope.view.names import distinct_images, image_names
from layerscope.view.session import merge
from layerscope.view.tree import FilesystemSizes, FilterMatches, LayerView, TreeMode, make_matcher

MiB = 1024 * 1024


def du(fs: FileSystem, directory: Node, layer: int) -> int:
    """The reference: distinct contents of the paths present below `directory`."""
    seen: dict[int, int] = {}
    loose = 0
    for node in directory.iter_subtree():
        if node is directory:
            continue
        version = node.state_at(layer)
        if version is None or version.entry is None or version.entry.kind == Kind.DIR:
            continue
        if any(p.state_at(layer) is None for p in _parents(node, directory)):
            continue
        if version.content is not None:
            seen[id(version.content)] = version.content.size
        else:
            loose += version.size
    return sum(seen.values()) + loose


def _parents(node: Node, top: Node) -> list[Node]:
    out = []
    parent = node.parent
    while parent is not None and parent is not top:
        out.append(parent)
        parent = parent.parent
    return out


def hardlinked_binary(links: int, size: int = MiB) -> FileSystem:
    """One file and `links` hardlinks to it, split between bin/ and lib/."""
    fs = FileSystem()
    entries = [Entry("/opt/lib/tool", Kind.FILE, size, 0o755, digest=b"t")]
    for i in range(links):
        where = "bin" if i % 3 else "lib"
        entries.append(Entry(f"/opt/{where}/t{i}", Kind.HARDLINK, 0, 0o755, link="/opt/lib/tool"))
    fs.apply(entries)
    return fs


@pytest.mark.parametrize("mode", list(TreeMode))
def test_150_hardlinks_to_a_1_mib_file_make_a_1_mib_directory(mode: TreeMode) -> None:
    fs = hardlinked_binary(150)
    view = LayerView(fs, 0, mode, FilesystemSizes(fs))
    for path in ("/opt", "/opt/bin", "/opt/lib", "/"):
        node = fs.lookup(path)
        assert node is not None
        assert view.size(node) == MiB, path  # not 151 MiB, and bin/ is not 0
    assert view.size(fs.lookup("/opt/bin/t1")) == MiB  # a row shows what it names


def test_a_hardlink_to_a_lower_layers_file_ships_no_bytes_in_its_layer() -> None:
    fs = hardlinked_binary(2)
    fs.apply([Entry("/srv/alias", Kind.HARDLINK, 0, 0o755, link="/opt/lib/tool")])
    changes = LayerView(fs, 1, TreeMode.CHANGES)
    alias = fs.lookup("/srv/alias")
    assert not changes.ships_bytes(alias)
    assert changes.size(fs.lookup("/srv")) == 0 == fs.counts[1].added_bytes
    assert changes.size(fs.root) == 0
    at_layer = LayerView(fs, 1, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    assert at_layer.ships_bytes(alias)
    assert at_layer.size(fs.lookup("/srv")) == MiB  # present there: du counts it
    assert at_layer.size(fs.root) == MiB  # still one content in the whole tree


def test_deleting_links_frees_nothing_until_the_file_goes() -> None:
    fs = hardlinked_binary(4)
    fs.apply([Entry("/opt/bin", Kind.WHITEOUT)])
    fs.apply([Entry("/opt/lib", Kind.WHITEOUT)])
    for k, freed in ((1, 0), (2, MiB)):
        view = LayerView(fs, k, TreeMode.CHANGES)
        assert view.deleted_below(fs.root) == freed == fs.counts[k].deleted_bytes
    gone = LayerView(fs, 2, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    assert gone.size(fs.lookup("/opt/lib")) == MiB  # what the struck-out directory held


def random_stack(rng: random.Random) -> FileSystem:
    """A few layers of files, hardlinks (to files of any layer), rewrites and whiteouts."""
    fs = FileSystem()
    files: list[str] = []
    for layer in range(rng.randint(2, 5)):
        entries: list[Entry] = []
        for _ in range(rng.randint(1, 12)):
            path = f"/{rng.choice('ab')}/{rng.choice('xyz')}/f{rng.randint(0, 9)}"
            roll = rng.random()
            if files and roll < 0.4:
                entries.append(Entry(path, Kind.HARDLINK, 0, 0o644, link=rng.choice(files)))
            elif files and roll < 0.55:
                entries.append(Entry(rng.choice(files + ["/a/x", "/b"]), Kind.WHITEOUT))
            else:
                size = rng.randint(0, 1000)
                entries.append(Entry(path, Kind.FILE, size, 0o644, digest=b"%d" % layer))
            files.append(path)
        fs.apply(entries)
    return fs


@pytest.mark.parametrize("seed", range(40))
def test_filesystem_sizes_match_du_moving_between_layers_in_any_order(seed: int) -> None:
    rng = random.Random(seed)
    fs = random_stack(rng)
    sizes = FilesystemSizes(fs)
    order = [rng.randrange(fs.layers) for _ in range(8)]
    for layer in order:
        sizes.move_to(layer)
        view = LayerView(fs, layer, TreeMode.FILESYSTEM, sizes)
        walked = LayerView(fs, layer, TreeMode.FILESYSTEM)  # no incremental sizes
        for node in fs.root.iter_subtree():
            present = node is fs.root or node.state_at(layer) is not None
            if present and view.is_dir(node):
                expected = du(fs, node, layer)
                assert sizes.get(node) == expected, (seed, layer, node.path)
                assert walked.size(node) == expected, (seed, layer, node.path)


@pytest.mark.parametrize("seed", range(40))
def test_layer_changes_roll_up_to_the_layer_header(seed: int) -> None:
    fs = random_stack(random.Random(seed))
    for k in range(fs.layers):
        view = LayerView(fs, k, TreeMode.CHANGES)
        counts = fs.counts[k]
        assert view.size(fs.root) == counts.added_bytes + counts.modified_bytes
        assert view.deleted_below(fs.root) == counts.deleted_bytes


def corpus_path(corpus: Path, *parts: str) -> str:
    return str(corpus.joinpath(*parts))


@pytest.mark.corpus
def test_longrun_tool_bin_holds_256_kib_in_both_views(corpus: Path) -> None:
    analysis = load([corpus_path(corpus, "podman", "longrun-docker.tar")])
    image = analysis.images[0]
    fs = image.filesystem
    sizes = FilesystemSizes(fs)
    for mode in TreeMode:
        view = LayerView(fs, 1, mode, sizes)
        for path in ("/usr/local/tool/bin", "/usr/local/tool/lib"):
            assert view.size(fs.lookup(path)) == 256 * 1024, (mode, path)
    # the tree agrees with the header, the report's layer figures and the final filesystem
    for k, layer in enumerate(image.layers):
        view = LayerView(fs, k, TreeMode.CHANGES)
        counts = fs.counts[k]
        assert view.size(fs.root) == counts.added_bytes + counts.modified_bytes
        assert view.size(fs.root) <= layer.size_bytes
    last = LayerView(fs, fs.layers - 1, TreeMode.FILESYSTEM, sizes)
    assert last.size(fs.root) == analysis.waste[0].final_bytes


@pytest.mark.corpus
def test_dive_image_bin_holds_one_busybox_not_one_per_link(corpus: Path) -> None:
    analysis = load([corpus_path(corpus, "peer-dive", "test-docker-image.tar")])
    fs = analysis.images[0].filesystem
    view = LayerView(fs, 0, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    bin_size = view.size(fs.lookup("/bin"))
    assert bin_size < 2 * MiB  # 403 MiB when each busybox link counted its 1.03 MiB
    assert bin_size == du(fs, fs.lookup("/bin"), 0)
    assert view.size(fs.root) == fs.counts[0].added_bytes


@pytest.mark.corpus
def test_images_are_named_apart_and_one_image_twice_counts_once(corpus: Path) -> None:
    hello = load([corpus_path(corpus, "podman", "hello-multiarch-oci.tar")])
    names = image_names(hello)
    assert len(set(names)) == 2
    assert all("linux/" in name for name in names)
    app = load([corpus_path(corpus, "podman", "app-docker.tar")])
    again = load([corpus_path(corpus, "podman", "app-docker.tar.gz")])
    both = merge(app, again)
    assert distinct_images(both) == 1
    names = image_names(both)
    assert names[0] != names[1]
    assert "app-docker.tar.gz" in names[1]
    # the platform is added only where it tells images apart: here both are linux/amd64
    assert names == ["localhost/lscorpus/app:1 in app-docker.tar",
                     "localhost/lscorpus/app:1 in app-docker.tar.gz"]  # fmt: skip
    assert both.sharing.saved_bytes == 0  # the same image twice is not sharing


def test_analysis_sizes_without_images_are_empty() -> None:
    assert analyse([], []).sharing.saved_bytes == 0


@pytest.mark.parametrize("budget", [1, 10**9])  # a snapshot every few layers, or every layer
@pytest.mark.parametrize("seed", range(10))
def test_sizes_at_any_layer_from_snapshots_match_du(
    seed: int, budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tree_module, "SNAPSHOT_BUDGET", budget)
    fs = random_stack(random.Random(seed))
    cache = tree_module.TreeCache(fs)
    cache.prepare()
    for layer in reversed(range(fs.layers)):
        sizes = cache.sizes_at(layer)
        view = LayerView(fs, layer, TreeMode.FILESYSTEM)
        for node in fs.root.iter_subtree():
            present = node is fs.root or node.state_at(layer) is not None
            if present and view.is_dir(node):
                assert sizes.get(node) == du(fs, node, layer), (seed, layer, node.path)


@pytest.mark.parametrize("seed", range(30))
def test_filter_counts_per_layer_are_what_each_layers_tree_shows(seed: int) -> None:
    rng = random.Random(seed)
    fs = random_stack(rng)
    text = rng.choice(["f1", "x", "*.so", "/a/*", "f?"])
    matcher = make_matcher(text)
    assert matcher is not None
    matches = FilterMatches(fs, matcher)
    for mode in TreeMode:
        counts = matches.counts(mode)
        for k in range(fs.layers):
            view = LayerView(fs, k, mode)
            everything = set(Change)
            assert counts[k] == matches.shown_in(view, everything), (seed, mode, k)
            # the same paths the one-walk filter of that layer's tree keeps
            assert matches.keep(view, everything) == view.matching(matcher, everything)
