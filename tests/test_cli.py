"""`layerscope report`: the JSON contract, the text report, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from layerscope.cli import main
from layerscope.cli.open_cmd import sample_archive


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.corpus
def test_json_contract_on_app(corpus, capsys):
    code, out, err = run(capsys, "report", "--json", str(corpus / "podman/app-docker.tar"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "layerscope.report/1"
    assert doc["archives"][0]["format"] == "docker-archive"
    image = doc["images"][0]
    assert image["ref"] == "localhost/lscorpus/app:1"
    assert image["refs"] == ["localhost/lscorpus/app:1"]
    assert image["config_digest"].startswith("sha256:")
    assert len(image["config_digest"]) == 71
    assert image["platform"] == "linux/amd64"
    assert image["created"].startswith("2026-11-28T01:44")
    assert image["size_bytes"] == sum(layer["size_bytes"] for layer in image["layers"]) == 3294028
    waste = image["waste"]
    assert waste["reclaimable_bytes"] == 1311033
    assert waste["overwritten_bytes"] + waste["deleted_bytes"] == 1311033
    assert waste["efficiency"] == pytest.approx(1 - 1311033 / 3294028)
    assert sum(layer["dead_bytes"] for layer in image["layers"]) == 1311033
    assert image["dive"]["efficiency"] == pytest.approx(0.681569481282963, abs=1e-12)
    assert image["dive"]["wasted_bytes"] == 1311366
    layer = image["layers"][3]
    assert set(layer) >= {
        "index",
        "diff_id",
        "chain_id",
        "digest",
        "media_type",
        "created_by",
        "size_bytes",
        "compressed_bytes",
        "added",
        "modified",
        "deleted",
        "dead_bytes",
        "shared_with",
    }
    assert layer["deleted"] == {"count": 1, "bytes": 524288}
    assert image["layers"][0]["chain_id"] == image["layers"][0]["diff_id"]
    assert image["inefficient_files"][0]["count"] >= 2
    assert doc["shared_layers"] == []


@pytest.mark.corpus
def test_files_lists_changes_with_directories(corpus, capsys):
    code, out, _ = run(capsys, "report", "--json", "--files", str(corpus / "podman/app-docker.tar"))
    assert code == 0
    changes = json.loads(out)["images"][0]["layers"][7]["changes"]
    by_path = {c["path"]: c for c in changes}
    assert by_path["/opt/tool/lib/libbig.so"]["change"] == "deleted"
    assert by_path["/opt/tool/lib/README"] == {
        "path": "/opt/tool/lib/README",
        "change": "added",
        "type": "file",
        "size": 3,
        "mode": "0644",
        "link": None,
        "owner": None,  # not from any package: the image has no package database
    }
    assert any(c["type"] == "dir" for c in changes)


@pytest.mark.corpus
def test_shared_layers_and_image_selection(corpus, capsys):
    path = str(corpus / "podman/multi-docker.tar")
    code, out, _ = run(capsys, "report", "--json", path)
    doc = json.loads(out)
    assert [s["images"] for s in doc["shared_layers"]] == [[0, 1]]
    assert doc["images"][0]["layers"][0]["shared_with"] == [1]
    code, out, _ = run(capsys, "report", "--json", "--image", "localhost/lscorpus/worker:1", path)
    doc = json.loads(out)
    assert [i["ref"] for i in doc["images"]] == ["localhost/lscorpus/worker:1"]
    code, _, err = run(capsys, "report", "--image", "nope", path)
    assert code == 2
    assert "matches no image" in err


@pytest.mark.corpus
def test_text_report_reads_well(corpus, capsys):
    code, out, _ = run(capsys, "report", str(corpus / "podman/app-docker.tar"))
    assert code == 0
    assert "localhost/lscorpus/app:1" in out
    assert "reclaimable 1.25 MiB" in out
    assert "/tmp/build-cache.bin  — layer 2, deleted in layer 3" in out
    assert "RUN rm /tmp/build-cache.bin" in out  # created_by shortened
    code, out, _ = run(capsys, "report", str(corpus / "podman/multi-docker.tar"))
    assert "sharing saves 1.89 MiB" in out


@pytest.mark.corpus
def test_text_report_says_what_stored_counts(corpus, capsys):
    """Uncompressed, "stored" is the tar stream: more than the files (issue #8)."""
    _, out, _ = run(capsys, "report", str(corpus / "podman/app-docker.tar"))
    assert "  3.14 MiB of files in 11 layers · 40 files in the final filesystem\n" in out
    assert (
        "  3.23 MiB stored: the layers as uncompressed tars (their headers and padding count)\n"
        in out
    )
    _, out, _ = run(capsys, "report", str(corpus / "podman/app-oci-zstd.tar"))
    assert "  2.05 MiB stored: the layers zstd-compressed\n" in out
    assert "stored: as the archive holds it" in out  # the table's legend


def test_text_report_is_a_record_not_a_clock(capsys, monkeypatch):
    """The same report whatever the time: the created date is absolute, with no "ago"."""
    import datetime as real_datetime

    import layerscope.format

    def frozen_at(year):
        class Frozen(real_datetime.datetime):
            @classmethod
            def now(cls, tz=None):
                return real_datetime.datetime(year, 1, 1, tzinfo=tz)

        return Frozen

    outputs = []
    for year in (2026, 2041):
        monkeypatch.setattr(layerscope.format, "datetime", frozen_at(year))
        _, out, _ = run(capsys, "report", sample_archive())
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert "created 2026-11-28 01:44:47 UTC\n" in outputs[0]
    # the window keeps the relative time
    assert layerscope.format.when("2026-11-28T01:44:47Z").endswith(" ago)")


def test_counts_are_plural_only_when_they_are(tmp_path, capsys):
    from tests import builders as b

    image = b.Image([b.Layer(b.layer_tar([b.file("only", b"x")]))])
    path = b.write_docker_archive(tmp_path / "one.tar", [image], style="podman")
    _, out, _ = run(capsys, "report", str(path))
    assert "1 B of files in 1 layer · 1 file in the final filesystem" in out
    code, _, err = run(capsys, "report", str(path), "--image", "3")
    assert code == 2
    assert "there is 1 image" in err


def test_limits_lists_every_limit_with_its_default(capsys):
    from dataclasses import fields

    from layerscope.limits import DEFAULT_LIMITS, Limits, limit_value, parse_limit_option

    code, out, err = run(capsys, "limits")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    for f in fields(Limits):
        default = getattr(DEFAULT_LIMITS, f.name)
        (row,) = [line for line in lines if line.split()[:1] == [f.name]]
        shown = row.split()[1]
        assert parse_limit_option(f"{f.name}={shown}") == (f.name, default)  # --limit takes it
        assert shown == limit_value(f.name, default)
        assert len(row.split()) > 3  # and a meaning
    assert "max_layer_bytes             32G  " in out


@pytest.mark.parametrize("command", ["report", "ci", "open", "diff", "extract"])
def test_help_points_at_what_an_installed_user_has(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 0
    assert "layerscope limits" in " ".join(out.split())
    assert "limits.py" not in out
    for line in out.splitlines():  # a doc named is named as part of the source
        if ".md" in line:
            assert "docs/" in line, line


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["report", "/nonexistent/x.tar"], "No such file"),
        (["report", "--limit", "bogus=1", "x"], "unknown limit"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, args, phrase):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert phrase in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_not_an_archive(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n" * 200)
    code, _, err = run(capsys, "report", str(bad))
    assert code == 2
    assert err.strip() == f"layerscope: {bad}: not a tar archive or a directory"


def test_bad_command_line_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report"])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report"], "layerscope report: the following arguments are required: ARCHIVE"),
        (["report", "x.tar", "--top", "abc"], "layerscope report: argument --top: invalid int"),
        (["extract", "x.tar"], "layerscope extract: one of the arguments --to --tar"),
        (["limits", "extra"], "layerscope limits: unrecognized arguments: extra"),
        (["diff", "a.tar", "b.tar", "--bogus"], "layerscope diff: unrecognized arguments: --bogus"),
        (["bogus"], "layerscope: argument COMMAND: invalid choice: 'bogus'"),
    ],
)
def test_a_wrong_command_line_is_one_line_naming_the_command(capsys, args, said):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert out == ""
    assert err.count("\n") == 1, err  # no usage block
    assert err.startswith(said)
    command = args[0] if args[0] != "bogus" else None
    assert err.rstrip().endswith(f"(see layerscope{' ' + command if command else ''} --help)")


@pytest.mark.parametrize("command", ["report", "ci", "diff", "extract", "open"])
def test_help_fits_a_narrow_terminal(capsys, monkeypatch, command):
    """Option groups' descriptions wrap; only hand-laid-out tables (report's figures)
    keep their lines, and those stay within 82 columns."""
    monkeypatch.setenv("COLUMNS", "60")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out, _ = capsys.readouterr()
    assert max(len(line) for line in out.splitlines()) <= 82


def test_sample_is_bundled_and_readable(capsys):
    code, out, _ = run(capsys, "report", sample_archive())
    assert code == 0
    assert "localhost/lscorpus/app:1" in out


def test_console_script_runs_as_a_module():
    proc = subprocess.run(
        [sys.executable, "-m", "layerscope", "report", "--json", sample_archive()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["images"][0]["waste"]["reclaimable_bytes"] == 1311033


def test_report_imports_only_what_reading_a_file_needs(tmp_path):
    """Start-up is most of a reopen from the cache: `report` leaves the HTTP, YAML, page
    and Qt libraries (and the other commands) unimported."""
    code = (
        "import sys\n"
        "from layerscope.cli import main\n"
        "assert main(['report', '--json', '-q', '--no-cache', sys.argv[1]]) == 0\n"
        "unwanted = ('httpx', 'yaml', 'pathspec', 'jinja2', 'PySide6', 'importlib.metadata',\n"
        "            'layerscope.remote.registry', 'layerscope.cli.ci_cmd')\n"
        "sys.stderr.write(repr(sorted(m for m in unwanted if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, sample_archive()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]"


def test_the_window_starts_without_the_http_client():
    """httpx (and what it pulls in) cost 80 ms of the window's start; only listing an
    engine's images or reading a registry needs it."""
    code = (
        "import sys\n"
        "import layerscope.gui.app\n"
        "sys.stderr.write(repr(sorted(m for m in ('httpx', 'layerscope.remote.engine',\n"
        "    'layerscope.remote.registry') if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]"


def test_every_command_is_listed_and_the_version_is_known(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 0
    for command in ("report", "ci", "diff", "extract", "open", "limits", "install-desktop-entry"):
        assert f"    {command}" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 0
    assert out.startswith("layerscope 0")


def test_a_command_leaves_the_cyclic_collector_as_it_found_it(capsys):
    """The CLI turns the collector off once it has loaded (nothing it makes after holds a
    cycle); a caller in the same process gets it back on."""
    import gc

    assert gc.isenabled()
    code, _, _ = run(capsys, "report", "--json", sample_archive())
    assert code == 0
    assert gc.isenabled()
