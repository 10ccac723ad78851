"""What the command line says when it writes somewhere, and when it cannot: one line naming
the option and the problem (exit 2) before any archive is read, and summaries whose words
agree with their numbers."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.cli.open_cmd import sample_archive
from tests import builders as b


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("mine\n")
    return path


@pytest.mark.parametrize(
    ("option", "where", "said"),
    [
        (
            "--to",
            "{file}/sub/dir",
            "--to {file}/sub/dir: {file} (in {file}/sub/dir) is not a directory",
        ),
        ("--to", "{file}", "--to {file}: {file} is not a directory"),
        (
            "--tar",
            "{tmp}/missing/x.tar",
            "--tar {tmp}/missing/x.tar: no such directory {tmp}/missing",
        ),
        ("--tar", "{tmp}", "--tar {tmp}: is a directory"),
        (
            "--layer-tar",
            "{tmp}/missing/l.tar",
            "--layer-tar {tmp}/missing/l.tar: no such directory",
        ),
    ],
)
def test_extract_names_a_destination_it_cannot_write(capsys, tmp_path, a_file, option, where, said):
    fill = {"file": str(a_file), "tmp": str(tmp_path)}
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(capsys, "extract", sample_archive(), option, where.format(**fill))
    assert code == 2
    assert out == ""
    assert err.startswith(f"layerscope: {said.format(**fill)}")
    assert err.count("\n") == 1
    assert "Error" not in err  # no exception class names
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_directory_that_cannot_be_made_is_one_line(capsys, tmp_path, monkeypatch):
    """What the checks cannot foresee (a file system that refuses the directory) is still
    one line naming the option, not an exception's name."""
    import layerscope.cli.extract_cmd as extract_cmd

    def refuse(dest: str, **_kw: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", dest)

    monkeypatch.setattr(extract_cmd, "SafeWriter", refuse)
    code, _, err = run(capsys, "extract", sample_archive(), "/etc", "--to", str(tmp_path / "o"))
    assert code == 2
    said = f"--to {tmp_path / 'o'}: cannot make it a directory (Read-only file system)"
    assert err == f"layerscope: {said}\n"


def test_an_unforeseen_os_error_names_the_file_not_the_exception(capsys, monkeypatch):
    import layerscope.cli.report_cmd as report_cmd

    def broken(*_args: object, **_kw: object) -> str:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/gone/template")

    monkeypatch.setattr(report_cmd, "render", broken)
    code, _, err = run(capsys, "report", "-q", sample_archive())
    assert code == 2
    assert err == "layerscope: /gone/template: No such file or directory\n"


def test_extract_summary_names_the_directory_once(capsys, tmp_path):
    code, out, _ = run(capsys, "extract", sample_archive(), "/etc", "--to", f"{tmp_path}/out//")
    assert code == 0
    assert out == f"Wrote 5 files (74 B), 1 directory to {tmp_path}/out/\n"


def test_one_outward_symlink_is_singular(capsys, tmp_path):
    image = b.Image([b.Layer(b.layer_tar([b.file("etc/conf", b"x"), b.symlink("abs", "/etc")]))])
    path = b.write_docker_archive(tmp_path / "one.tar", [image], style="podman")
    code, out, _ = run(capsys, "extract", str(path), "--to", str(tmp_path / "out"))
    assert code == 0
    assert "Wrote 1 file (1 B), 1 directory, 1 symlink to" in out
    assert "\n1 symlink points outside the destination" in out


def test_several_existing_files_are_counted_in_words(capsys, tmp_path):
    dest = tmp_path / "out"
    assert run(capsys, "extract", sample_archive(), "/etc", "--to", str(dest))[0] == 0
    code, _, err = run(capsys, "extract", sample_archive(), "/etc", "--to", str(dest))
    assert code == 2
    assert err.endswith(
        ": exists (use --force to replace it), and 4 other paths too; nothing was written\n"
    )
    assert "(and" not in err


# -- the report's words and figures -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (0.6019970079185726, "60.2%"),
        (0.9997270767326053, "99.97%"),  # the sample's dive user-wasted ratio
        (0.99999, "99.999%"),
        (1.0, "100.0%"),
        (0.0, "0.0%"),
        (0.00004, "0.004%"),
        (1.00002, "100.002%"),  # dive's user-wasted ratio can pass 1
        (None, "n/a"),
    ],
)
def test_a_ratio_never_reads_as_all_or_nothing_when_it_is_not(ratio, text):
    from layerscope.format import ratio_text

    assert ratio_text(ratio) == text


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_gives_the_json_ratio(capsys, fmt):
    """The sample's dive user-wasted ratio is 0.99973: no format rounds it to 100.0%."""
    code, out, _ = run(capsys, "report", "-q", sample_archive(), "--format", fmt)
    assert code == 0
    assert "99.97%" in out
    assert "100.0%" not in out


def test_one_layer_and_one_file_are_singular_in_every_format(capsys, tmp_path):
    image = b.Image([b.Layer(b.layer_tar([b.file("hello", b"hi\n")]), "gzip")])
    path = b.write_oci_archive(tmp_path / "one.tar", [image])
    _, text, _ = run(capsys, "report", "-q", str(path))
    assert "3 B of files in 1 layer · 1 file in the final filesystem" in text
    assert "stored: the layer gzip-compressed\n" in text
    _, html, _ = run(capsys, "report", "-q", str(path), "--format", "html")
    assert '<div class="hint">1 layer · ' in html
    assert '<div class="hint">1 file in the final filesystem</div>' in html
    assert "1 layers" not in html
    assert "1 files" not in html


def test_top_0_says_how_many_lists_left_out(capsys):
    code, out, _ = run(capsys, "report", "-q", sample_archive(), "--top", "0")
    assert code == 0
    lines = out.splitlines()
    after = lines[lines.index("  Same content at several paths") + 1]
    assert after == "  … and 1 more (--top N)"
    after = lines[lines.index("  Largest wasted files") + 1]
    assert after == "  … and 16 more (--top N, or --json for all)"


# -- diff -------------------------------------------------------------------------------------


def test_diff_text_names_the_layers_and_cuts_commands_visibly(capsys):
    app = sample_archive()
    code, out, _ = run(capsys, "diff", "-q", f"{app}@5", app)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("at layer 5 (of layers 0 to 10)")
    assert lines[1].endswith("at the final filesystem (layer 10)")
    shared = lines[3:9]
    assert shared[2].startswith("    2  sha256:")
    assert shared[2].endswith("…")  # a long RUN line is cut where it can be seen
    assert all(len(line) <= 2 + 3 + 2 + 19 + 2 + 80 for line in shared)


@pytest.mark.parametrize("spec", ["{app}@x", "{app}@top"])
def test_a_layer_that_is_not_a_number_is_named_as_such(capsys, spec):
    written = spec.format(app=sample_archive())
    code, out, err = run(capsys, "diff", written, sample_archive())
    assert code == 2
    assert out == ""
    suffix = written[written.rindex("@") :]
    assert (
        err == f"layerscope: {written}: {suffix!r} is not a layer: write @ and its index, e.g. @0\n"
    )
    assert "no such file" not in err


# -- ci ---------------------------------------------------------------------------------------


def ci_lines(capsys, *flags: str) -> dict[str, str]:
    code, out, err = run(capsys, "ci", "-q", "--no-config", "--top", "0", sample_archive(), *flags)
    assert code in (0, 1), err
    return {line.split()[1]: line for line in out.splitlines() if line[2:6] in ("PASS", "FAIL")}


def test_ci_tells_a_figure_from_a_threshold_the_rounding_makes_equal(capsys):
    lines = ci_lines(
        capsys,
        "--max-reclaimable", "1311032",  # one byte under the sample's 1,311,033
        "--max-reclaimable-ratio", "0.3980",  # the sample's is 0.398003...
    )  # fmt: skip
    assert "reclaimable bytes 1,311,033 B > 1,311,032 B  [" in lines["max-reclaimable"]
    assert "reclaimable ratio 39.8003% > 39.8000%  [" in lines["max-reclaimable-ratio"]


def test_ci_names_a_decimal_threshold_exactly(capsys):
    lines = ci_lines(capsys, "--highest-wasted-bytes", "20MB", "--max-image-bytes", "1MB")
    assert (
        "dive wasted bytes 1.25 MiB <= 19.1 MiB (20,000,000 B)  [" in lines["highest-wasted-bytes"]
    )
    assert "image size 3.14 MiB > 977 KiB (1,000,000 B)  [" in lines["max-image-bytes"]
    lines = ci_lines(capsys, "--highest-wasted-bytes", "50MiB")
    assert "dive wasted bytes 1.25 MiB <= 50 MiB  [" in lines["highest-wasted-bytes"]


def test_dive_ci_keys_besides_rules_are_noted_as_ignored(capsys, tmp_path, monkeypatch):
    """CI.md: other keys (dive's `plugins:`) are ignored with a note on stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".dive-ci").write_text(
        "plugins:\n  - plugin1\nrules:\n  lowestEfficiency: 0.5\n  plugin1/rule1: error\n"
    )
    code, out, err = run(capsys, "ci", "-q", sample_archive())
    assert code == 1  # dive's default user-wasted rule still fails the sample
    assert "PASS  lowest-efficiency" in out
    assert err.splitlines() == [
        "layerscope: note: .dive-ci: plugins is not one of dive's rules; ignored",
        "layerscope: note: .dive-ci: rules.plugin1/rule1 is not one of dive's rules; ignored",
    ]


def test_images_of_several_archives_say_which_file_they_are_from(capsys, tmp_path):
    """Two archives holding one image give two images of one name: each says its file."""
    copy = tmp_path / "copy.tar"
    copy.write_bytes(Path(sample_archive()).read_bytes())
    code, out, _ = run(capsys, "report", "-q", sample_archive(), str(copy))
    assert code == 0
    blocks = out.split("\nImage ")[1:]
    assert [block.splitlines()[2] for block in blocks] == [
        f"  from {sample_archive()}",
        f"  from {copy}",
    ]
    code, out, _ = run(capsys, "report", "-q", sample_archive())
    assert "  from " not in out  # one archive: its path heads the report already


def test_ci_piped_into_head_keeps_its_verdict(tmp_path):
    """`layerscope ci ... | head` under `set -o pipefail`: the reader leaving early must not
    turn a failed rule into success (exit 1, not 0), nor print a traceback."""
    import subprocess
    import sys

    files = [b.file(f"srv/data/file-{n:05}.txt", b"x") for n in range(3000)]
    path = b.write_docker_archive(
        tmp_path / "many.tar", [b.Image([b.Layer(b.layer_tar(files))])], style="podman"
    )
    command = [sys.executable, "-m", "layerscope", "ci", "-q", "--no-config", str(path)]
    command += ["--forbid", "*.txt", "--top", "100000"]  # 3000 offender lines: over 64 KiB
    # as a user's shell runs it: stdout buffered (PYTHONUNBUFFERED makes a short write pass
    # silently instead of raising BrokenPipeError)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert proc.stdout.readline().startswith(b"Image 0")
        proc.stdout.close()  # as head does after its first line
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 1
    assert err == b""


def test_tar_dash_writes_the_tar_to_standard_output(capsysbinary, tmp_path, monkeypatch):
    """`extract app.tar /etc --tar - | tar t`: the tar on stdout, what was written on
    stderr, and no file named '-'."""
    import io
    import tarfile

    monkeypatch.chdir(tmp_path)
    assert main(["extract", "-q", sample_archive(), "/etc", "--tar", "-"]) == 0
    out, err = capsysbinary.readouterr()
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        names = tar.getnames()
        assert tar.extractfile("etc/passwd").read().startswith(b"root:")  # type: ignore[union-attr]
    assert names == ["etc", "etc/group", "etc/hostname", "etc/hosts", "etc/resolv.conf",
                     "etc/passwd"]  # fmt: skip
    assert err == b"Wrote 5 files (74 B), 1 directory to standard output\n"
    assert list(tmp_path.iterdir()) == []
    assert main(["extract", "-q", f"{sample_archive()}@3", "--layer-tar", "-"]) == 0
    out, err = capsysbinary.readouterr()
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert "tmp/.wh.build-cache.bin" in tar.getnames()
    assert err == b"Saved layer 3 (2.5 KiB tar) to standard output\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--tar", "--layer-tar"])
def test_a_tar_is_not_written_to_a_terminal(capsys, monkeypatch, option):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code, out, err = run(capsys, "extract", sample_archive(), option, "-")
    assert (code, out) == (2, "")
    assert err == (
        f"layerscope: {option} -: standard output is a terminal; pipe it (| tar t) or name a file\n"
    )


def test_the_summary_wraps_to_a_narrow_terminal_between_parts(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = run(capsys, "report", "-q", sample_archive())
    assert code == 0
    lines = out.splitlines()
    table = lines.index("    #       size     stored   +add  ~mod  -del       dead  created by")
    summary = lines[4:table]  # from 'platform' to the table
    assert summary == [
        "  platform linux/amd64 · created 2026-11-28 01:44:47 UTC",
        "  runs httpd -f -p 8080 -h /srv/app/site as app in /srv/app",
        "    · ports 8080/tcp",
        "  3.14 MiB of files in 11 layers",
        "    · 40 files in the final filesystem",
        "  3.23 MiB stored: the layers as uncompressed tars (their",
        "    headers and padding count)",
        "  efficiency 60.2%",
        "    · reclaimable 1.25 MiB (overwritten 302 B, deleted",  # never '302\n B'
        "    1.25 MiB) · duplicate content 224 B",
        "  dive would say: efficiency 68.2%, wasted 1.25 MiB,",
        "    user-wasted 99.97%",
        "",
    ]
    legend = lines[table + 12 :][:3]
    assert legend == [
        "  (size: the layer's file bytes",
        "    · stored: as the archive holds it",
        "    · dead: shipped, not in the final filesystem)",
    ]


def test_a_wide_terminal_keeps_each_sentence_on_one_line(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    _, out, _ = run(capsys, "report", "-q", sample_archive())
    assert (
        "  efficiency 60.2% · reclaimable 1.25 MiB (overwritten 302 B, deleted 1.25 MiB)"
        " · duplicate content 224 B\n" in out
    )


def test_an_image_without_a_command_says_so(capsys, tmp_path):
    image = b.Image([b.Layer(b.layer_tar([b.file("a", b"x")]))], config={"WorkingDir": "/srv"})
    path = b.write_docker_archive(tmp_path / "nocmd.tar", [image], style="podman")
    _, out, _ = run(capsys, "report", "-q", str(path))
    assert "\n  runs no command in /srv\n" in out
    _, md, _ = run(capsys, "report", "-q", str(path), "--format", "markdown")
    assert "runs ` no command in /srv `" in md


def test_files_tells_a_hardlink_from_a_symlink(capsys):
    _, out, _ = run(capsys, "report", "-q", "--files", sample_archive())
    assert "    + /opt/tool/lib/libbig.so.1 (hardlink to /opt/tool/lib/libbig.so)\n" in out
    assert "    + /opt/tool/lib/libbig.so.link -> libbig.so\n" in out


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("max_ratio=1.5", "--limit max_ratio: '1.5' is not a whole number"),
        ("max_layer_bytes=1.5G", "--limit max_layer_bytes: '1.5G' is not a whole number"),
        ("max_layer_bytes=1T", "--limit max_layer_bytes: '1T' is not a whole number"),
    ],
)
def test_a_limit_value_that_is_not_whole_is_named_as_given(capsys, option, said):
    code, _, err = run(capsys, "report", "-q", sample_archive(), "--limit", option)
    assert code == 2
    assert err.startswith(f"layerscope: {said} (e.g. 200, or 64G: K, M and G are binary units)")


def test_a_limit_name_ignores_case(capsys):
    from layerscope.limits import parse_limit_option

    assert parse_limit_option("MAX_LAYER_BYTES=64G") == ("max_layer_bytes", 64 << 30)


def test_files_text_names_each_files_package_as_the_readme_says(capsys, tmp_path):
    """README: `report --files` lists every path each layer changed (and its package)."""
    curl = b.DebPackage("curl", "7.88.1-10+deb12u5", ["/usr/bin/curl"], installed_kib=500)
    layer = b.layer_tar(
        [*b.dpkg_entries([curl]), b.file("usr/bin/curl", b"elf"), b.file("app/main", b"x")]
    )
    image = b.Image([b.Layer(layer)])
    path = b.write_docker_archive(tmp_path / "pkg.tar", [image], style="podman")
    _, out, _ = run(capsys, "report", "-q", "--files", str(path))
    assert "    + /usr/bin/curl  [deb:curl]\n" in out
    assert "    + /app/main\n" in out  # not from any package: nothing added


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("report.html", "<!DOCTYPE html>"),
        ("summary.md", "### Image 0:"),
        ("report.json", '{\n  "schema": "layerscope.report/1"'),
        ("report.txt", sample_archive()),
        ("report.out", sample_archive()),  # an extension that says nothing: text
    ],
)
def test_output_without_format_writes_what_its_name_says(capsys, tmp_path, name, starts):
    target = tmp_path / name
    code, out, _ = run(capsys, "report", "-q", sample_archive(), "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text().startswith(starts)


def test_format_given_wins_over_the_output_name(capsys, tmp_path):
    target = tmp_path / "report.html"
    assert (
        run(capsys, "report", "-q", sample_archive(), "-o", str(target), "--format", "text")[0] == 0
    )
    assert target.read_text().startswith(sample_archive())


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_files_with_a_page_format_is_a_wrong_command_line(capsys, fmt):
    code, out, err = run(capsys, "report", "-q", sample_archive(), "--files", "--format", fmt)
    assert (code, out) == (2, "")
    assert err == f"layerscope: --files lists paths in the text and JSON reports, not in {fmt}\n"


def test_a_path_a_later_layer_deleted_says_which_layers_ship_it(capsys, tmp_path):
    code, _, err = run(
        capsys, "extract", sample_archive(), "/tmp/build-cache.bin", "--to", str(tmp_path / "o")
    )
    assert code == 2
    assert err == (
        "layerscope: /tmp/build-cache.bin: no such path at layer 10; layer 2 ships it (@LAYER)\n"
    )
    _, _, err = run(capsys, "extract", sample_archive(), "/nope", "--to", str(tmp_path / "o"))
    assert err == "layerscope: /nope: no such path at layer 10\n"
    assert not (tmp_path / "o").exists()


def test_ci_names_the_file_of_each_image_when_there_are_several(capsys, tmp_path):
    copy = tmp_path / "copy.tar"
    copy.write_bytes(Path(sample_archive()).read_bytes())
    _, out, _ = run(capsys, "ci", "-q", "--no-config", "--top", "0", sample_archive(), str(copy))
    assert [line for line in out.splitlines() if line.startswith("Image")] == [
        f"Image 0: localhost/lscorpus/app:1 (linux/amd64) from {sample_archive()}",
        f"Image 1: localhost/lscorpus/app:1 (linux/amd64) from {copy}",
    ]


def test_progress_fits_a_narrow_terminal(monkeypatch):
    """A progress line longer than the terminal wraps, and '\\r' then erases only its last
    part: every update must fit in one line."""
    import io

    from layerscope.cli.common import StderrProgress
    from layerscope.load import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("COLUMNS", "40")
    progress = StderrProgress(True)
    progress(Progress("Reading longrun-oci-zstd.tar: 3 layers, layer 2 of 3 (zstd)", 5, 10))
    updates = terminal.getvalue().split("\r\033[K")[1:]
    assert updates == [" 50% Reading longrun-oci-zstd.tar: 3 la"]
    assert all(len(u) < 40 for u in updates)


def test_limits_wraps_its_meanings_in_their_column(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = run(capsys, "limits")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) < 60
    start = lines[0].index("what it bounds")
    row = lines.index(next(line for line in lines if line.startswith("max_ratio ")))
    assert lines[row][start:] == "uncompressed / compressed"
    assert lines[row + 1] == " " * start + "size of a stream, checked"


@pytest.mark.parametrize(
    "args",
    [
        ["extract", "{app}", "--to", ""],
        ["extract", "{app}", "--tar", ""],
        ["extract", "{app}", "--layer-tar", ""],
        ["report", "{app}", "-o", ""],
        ["ci", "--no-config", "{app}", "--junit-xml", ""],
    ],
)
def test_an_empty_destination_is_named(capsys, args):
    option = args[-2] if args[-2] != "-o" else "--output"
    code, out, err = run(capsys, *(a.format(app=sample_archive()) for a in args))
    assert (code, out) == (2, "")
    assert err == f"layerscope: {option} needs a path, not an empty name\n"


def test_ci_json_names_each_images_archive(capsys, tmp_path):
    import json

    copy = tmp_path / "copy.tar"
    copy.write_bytes(Path(sample_archive()).read_bytes())
    _, out, _ = run(capsys, "ci", "-q", "--no-config", "--json", sample_archive(), str(copy))
    assert [i["archive"] for i in json.loads(out)["images"]] == [sample_archive(), str(copy)]


def test_the_images_of_a_multi_platform_archive_are_named_with_their_platform(capsys, tmp_path):
    images = [
        b.Image([b.Layer(b.layer_tar([b.file("hello", b"hi")]))], tags=["ex.com/hello:1"]),
        b.Image(
            [b.Layer(b.layer_tar([b.file("hello", b"hi!")]))],
            tags=["ex.com/hello:1"],
            architecture="arm64",
        ),
    ]
    path = b.write_oci_archive(tmp_path / "multi.tar", images)
    code, _, err = run(capsys, "extract", str(path), "--to", str(tmp_path / "o"))
    assert code == 2
    assert err.endswith(
        f"holds 2 images; name one as {path}:INDEX, :REF or :PLATFORM "
        "(0=ex.com/hello:1 (linux/amd64), 1=ex.com/hello:1 (linux/arm64))\n"
    )


def test_an_image_selector_that_matches_nothing_lists_indexes_and_platforms(capsys, tmp_path):
    images = [
        b.Image([b.Layer(b.layer_tar([b.file("a", b"1")]))], tags=["ex.com/hello:1"]),
        b.Image([b.Layer(b.layer_tar([b.file("a", b"2")]))], tags=["ex.com/hello:1"],
                architecture="arm64"),
    ]  # fmt: skip
    path = b.write_oci_archive(tmp_path / "multi.tar", images)
    code, _, err = run(capsys, "report", "-q", str(path), "--image", "nope")
    assert code == 2
    assert err == (
        "layerscope: --image 'nope' matches no image "
        "(0=ex.com/hello:1 (linux/amd64), 1=ex.com/hello:1 (linux/arm64))\n"
    )


def test_a_small_package_share_is_not_0_percent(capsys, tmp_path):
    curl = b.DebPackage("curl", "7.88.1", ["/usr/bin/curl"], installed_kib=500)
    wget = b.DebPackage("wget", "1.21", ["/usr/bin/wget"], installed_kib=1)
    first = b.layer_tar([*b.dpkg_entries([curl]), b.file("usr/bin/curl", b"elf" * 100)])
    # one byte from a package among the ~640 of its database files
    second = b.layer_tar([*b.dpkg_entries([curl, wget]), b.file("usr/bin/wget", b"w")])
    image = b.Image([b.Layer(first), b.Layer(second)])
    path = b.write_docker_archive(tmp_path / "pkg.tar", [image], style="podman")
    _, out, _ = run(capsys, "report", "-q", str(path))
    assert "  layer 1: <1% of its " in out
    assert "  layer 1: 0% of its" not in out


def test_an_unreachable_registry_is_said_without_errno_numbers(capsys):
    import socket

    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err = run(capsys, "report", "-q", f"registry://127.0.0.1:{port}/app:1")
    assert (code, out) == (2, "")
    assert err == (
        f"layerscope: registry://127.0.0.1:{port}/app:1: cannot reach the registry at "
        f"127.0.0.1:{port}: Connection refused\n"
    )


def test_an_unreachable_docker_engine_is_said_without_exception_names(capsys, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    code, _, err = run(capsys, "report", "-q", "docker://app:1")
    assert code == 2
    assert err == (
        f"layerscope: docker://app:1: cannot reach Docker at tcp://127.0.0.1:{port}: "
        "Connection refused\n"
    )
