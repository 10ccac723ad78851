"""Packages per layer, on fixture images whose layers install, upgrade and remove packages
(Debian, Alpine, Python, npm; databases written by tests/builders.py) and on real rpm
databases written by rpm itself (tests/data/rpm)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from layerscope.analysis.packages.model import compare_versions
from layerscope.analysis.packages.rpm import read_rpmdb_sqlite
from layerscope.cli import main
from tests import builders as b

DATA = Path(__file__).parent / "data"


def archive(tmp_path: Path, layers: list[list[b.Entry]], history: list[str]) -> Path:
    image = b.Image(
        [b.Layer(b.layer_tar(entries)) for entries in layers],
        history=[{"created_by": f"/bin/sh -c {h}"} for h in history],
    )
    path = tmp_path / "image.tar"
    b.write_docker_archive(path, [image], style="podman")
    return path


def report(capsys, path: Path, *args: str) -> dict:
    code = main(["report", "--json", "-q", str(path), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)["images"][0]


def names(items: list[dict]) -> list[tuple]:
    return [(p["type"], p["name"], p["version"]) for p in items]


# -- Debian -----------------------------------------------------------------------------------

BASE_FILES = b.DebPackage("base-files", "12.4+deb12u5", ["/etc/debian_version"], installed_kib=388)
LIBC = b.DebPackage(
    "libc6",
    "2.36-9+deb12u3",
    # dpkg lists /lib/...; the layer ships /usr/lib/... (merged /usr: /lib -> usr/lib)
    ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/share/doc/libc6/copyright"],
    installed_kib=12_986,
    multi_arch_same=True,
)
LIBC_NEW = b.DebPackage(
    "libc6", "2.36-9+deb12u4", LIBC.files, installed_kib=12_990, multi_arch_same=True
)
CURL = b.DebPackage("curl", "7.88.1-10+deb12u5", ["/usr/bin/curl"], installed_kib=500)
LIBCURL = b.DebPackage(
    "libcurl4", "7.88.1-10+deb12u5", ["/usr/lib/x86_64-linux-gnu/libcurl.so.4"], installed_kib=1_000
)
CURL_GONE = b.DebPackage(
    "curl", CURL.version, [], installed_kib=500, status="deinstall ok config-files"
)


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    return debian_archive(tmp_path)


def debian_archive(tmp_path: Path) -> Path:
    """Layers: base (base-files, libc6), apt-get install curl, COPY, upgrade libc6, remove
    curl. Used by the GUI tests too."""
    return archive(
        tmp_path,
        [
            [
                b.symlink("lib", "usr/lib"),
                b.file("etc/debian_version", b"12.4\n"),
                b.file("usr/lib/x86_64-linux-gnu/libc.so.6", b"\x7fELF" + b"c" * 996),
                b.file("usr/share/doc/libc6/copyright", b"GPL\n"),
                *b.dpkg_entries([BASE_FILES, LIBC]),
            ],
            [
                b.file("usr/bin/curl", b"\x7fELF" + b"u" * 196),
                b.file("usr/lib/x86_64-linux-gnu/libcurl.so.4", b"\x7fELF" + b"l" * 396),
                b.file("var/cache/apt/archives/curl.deb", b"d" * 300),
                *b.dpkg_entries([BASE_FILES, LIBC, CURL, LIBCURL], lists=[CURL, LIBCURL]),
            ],
            [
                b.file("etc/app.conf", b"port=8080\n"),  # COPY
            ],
            [
                b.file("usr/lib/x86_64-linux-gnu/libc.so.6", b"\x7fELF" + b"C" * 1000),
                *b.dpkg_entries([BASE_FILES, LIBC_NEW, CURL, LIBCURL], lists=[LIBC_NEW]),
            ],
            [
                b.whiteout("usr/bin/curl"),
                b.whiteout("var/lib/dpkg/info/curl.list"),
                *b.dpkg_entries([BASE_FILES, LIBC_NEW, CURL_GONE, LIBCURL], lists=[]),
            ],
        ],
        [
            "#(nop) ADD rootfs.tar /",
            "apt-get install -y curl",
            "#(nop) COPY app.conf /etc/",
            "apt-get upgrade -y libc6",
            "apt-get remove -y curl",
        ],
    )


def test_debian_install_upgrade_remove(capsys, debian):
    image = report(capsys, debian, "--files")
    layers = [layer["packages"] for layer in image["layers"]]
    assert names(layers[0]["added"]) == [
        ("deb", "base-files", "12.4+deb12u5"),
        ("deb", "libc6", "2.36-9+deb12u3"),
    ]
    assert layers[0]["added"][1] == {
        "type": "deb",
        "name": "libc6",
        "version": "2.36-9+deb12u3",
        "arch": "amd64",
        "installed_bytes": 12_986 * 1024,
        "location": "/var/lib/dpkg",
    }
    assert names(layers[1]["added"]) == [
        ("deb", "curl", "7.88.1-10+deb12u5"),
        ("deb", "libcurl4", "7.88.1-10+deb12u5"),
    ]
    assert layers[2]["added"] == layers[2]["removed"] == layers[2]["upgraded"] == []
    assert layers[3]["upgraded"] == [
        {
            "type": "deb",
            "name": "libc6",
            "version": "2.36-9+deb12u4",
            "arch": "amd64",
            "installed_bytes": 12_990 * 1024,
            "location": "/var/lib/dpkg",
            "from": "2.36-9+deb12u3",
            "to": "2.36-9+deb12u4",
            "from_installed_bytes": 12_986 * 1024,
        }
    ]
    assert layers[3]["added"] == layers[3]["removed"] == []
    # `deinstall ok config-files`: the files are gone, the package is removed
    assert names(layers[4]["removed"]) == [("deb", "curl", "7.88.1-10+deb12u5")]
    assert names(image["packages"]["installed"]) == [
        ("deb", "base-files", "12.4+deb12u5"),
        ("deb", "libc6", "2.36-9+deb12u4"),
        ("deb", "libcurl4", "7.88.1-10+deb12u5"),
    ]
    assert image["packages"]["notes"] == []
    # whose bytes each layer ships: the package's files, or not from any package
    assert (layers[1]["package_bytes"], layers[2]["package_bytes"]) == (200 + 400, 0)
    assert layers[2]["other_bytes"] == len(b"port=8080\n")
    owners = {c["path"]: c.get("owner") for layer in image["layers"] for c in layer["changes"]}
    assert owners["/usr/lib/x86_64-linux-gnu/libc.so.6"] == "deb:libc6"  # through /lib
    assert owners["/usr/bin/curl"] == "deb:curl"  # also when a later layer deletes it
    assert owners["/etc/app.conf"] is None
    assert owners["/var/cache/apt/archives/curl.deb"] is None
    assert owners["/var/lib/dpkg/status"] is None  # dpkg's own database
    assert "owner" not in next(
        c for layer in image["layers"] for c in layer["changes"] if c["path"] == "/usr/bin"
    )


def test_distroless_status_d(capsys, tmp_path):
    """distroless: one stanza per file in status.d, files from NAME.md5sums."""
    base = b.dpkg_status([BASE_FILES]).decode()
    tzdata = b.DebPackage("tzdata", "2024a-0+deb12u1", [], arch="all", installed_kib=2_000)
    path = archive(
        tmp_path,
        [
            [
                b.file("etc/debian_version", b"12\n"),
                b.file("var/lib/dpkg/status.d/base", base.encode()),
                b.file(
                    "var/lib/dpkg/status.d/base.md5sums",
                    b"0123456789abcdef0123456789abcdef  etc/debian_version\n",
                ),
            ],
            [b.file("var/lib/dpkg/status.d/tzdata", b.dpkg_status([tzdata]))],
        ],
        ["bazel build", "bazel build"],
    )
    image = report(capsys, path, "--files")
    assert names(image["layers"][1]["packages"]["added"]) == [("deb", "tzdata", "2024a-0+deb12u1")]
    owners = {c["path"]: c.get("owner") for c in image["layers"][0]["changes"]}
    assert owners["/etc/debian_version"] == "deb:base-files"


def test_an_epoch_of_other_scripts_digits_is_no_epoch(capsys, tmp_path):
    """'²' passes str.isdigit() but int() refuses it: a status file from the archive with
    such a version, upgraded in a later layer, stopped the load with a ValueError."""
    old = b.DebPackage("tool", "\u00b2:1.0", [], installed_kib=1)
    new = b.DebPackage("tool", "1:1.0", [], installed_kib=1)
    path = archive(
        tmp_path,
        [[*b.dpkg_entries([old])], [*b.dpkg_entries([new])]],
        ["apt-get install tool", "apt-get install tool"],
    )
    changed = report(capsys, path)["layers"][1]["packages"]
    assert [(p["name"], p["version"]) for p in changed["upgraded"] + changed["downgraded"]] == [
        ("tool", "1:1.0")
    ]
    assert compare_versions("\u0661:1.0", "1:0.5") == -1  # "\u0661" is not epoch 1 either


# -- Alpine -----------------------------------------------------------------------------------

MUSL = b.ApkPackage("musl", "1.2.4-r2", ["/lib/ld-musl-x86_64.so.1"], installed_bytes=643_072)
MUSL_NEW = b.ApkPackage("musl", "1.2.4-r3", MUSL.files, installed_bytes=643_100)
BUSYBOX = b.ApkPackage("busybox", "1.36.1-r15", ["/bin/busybox"], installed_bytes=950_000)
APK_CURL = b.ApkPackage("curl", "8.5.0-r0", ["/usr/bin/curl"], installed_bytes=250_000)
DB = "lib/apk/db/installed"


def test_alpine_install_upgrade_remove(capsys, tmp_path):
    path = archive(
        tmp_path,
        [
            [
                b.file("lib/ld-musl-x86_64.so.1", b"m" * 100),
                b.file("bin/busybox", b"b" * 300),
                b.file(DB, b.apk_installed([MUSL, BUSYBOX])),
            ],
            [
                b.file("usr/bin/curl", b"c" * 50),
                b.file(DB, b.apk_installed([MUSL, BUSYBOX, APK_CURL])),
            ],
            [
                b.file("lib/ld-musl-x86_64.so.1", b"M" * 100),
                b.file(DB, b.apk_installed([MUSL_NEW, BUSYBOX, APK_CURL])),
            ],
            [b.whiteout("usr/bin/curl"), b.file(DB, b.apk_installed([MUSL_NEW, BUSYBOX]))],
        ],
        ["ADD alpine-minirootfs.tar.gz /", "apk add curl", "apk upgrade musl", "apk del curl"],
    )
    image = report(capsys, path, "--files")
    layers = [layer["packages"] for layer in image["layers"]]
    assert names(layers[0]["added"]) == [
        ("apk", "busybox", "1.36.1-r15"),
        ("apk", "musl", "1.2.4-r2"),
    ]
    assert layers[0]["added"][1]["installed_bytes"] == 643_072
    assert layers[0]["added"][1]["arch"] == "x86_64"
    assert names(layers[1]["added"]) == [("apk", "curl", "8.5.0-r0")]
    assert [(u["name"], u["from"], u["to"]) for u in layers[2]["upgraded"]] == [
        ("musl", "1.2.4-r2", "1.2.4-r3")
    ]
    assert names(layers[3]["removed"]) == [("apk", "curl", "8.5.0-r0")]
    assert layers[1]["package_bytes"] == 50
    owners = {c["path"]: c.get("owner") for layer in image["layers"] for c in layer["changes"]}
    assert owners["/usr/bin/curl"] == "apk:curl"
    assert owners["/lib/ld-musl-x86_64.so.1"] == "apk:musl"
    assert owners["/lib/apk/db/installed"] is None


# -- Python and npm ---------------------------------------------------------------------------

SITE = "usr/local/lib/python3.12/site-packages"


def test_python_and_npm(capsys, tmp_path):
    old = {"requests/__init__.py": b"# 2.31\n", "requests/api.py": b"a" * 100}
    new = {"requests/__init__.py": b"# 2.32.3\n", "requests/api.py": b"A" * 120}
    path = archive(
        tmp_path,
        [
            b.dist_info(SITE, "requests", "2.31.0", old)
            + b.dist_info(SITE, "six", "1.16.0", {"six.py": b"s" * 30, "../../../bin/six": b"#!"}),
            [b.whiteout(f"{SITE}/requests-2.31.0.dist-info")]
            + b.dist_info(SITE, "requests", "2.32.3", new),
            [b.whiteout(f"{SITE}/six-1.16.0.dist-info"), b.whiteout(f"{SITE}/six.py")],
            b.npm_package("app/node_modules", "left-pad", "1.3.0", {"index.js": b"x" * 40})
            + b.npm_package("app/node_modules", "@types/node", "20.11.0", {"index.d.ts": b"d"})
            + b.npm_package(
                "app/node_modules/left-pad/node_modules", "tiny", "0.1.0", {"i.js": b"t"}
            )
            + [b.file("app/server.js", b"require('left-pad')\n")],
        ],
        [
            "pip install requests==2.31.0 six",
            "pip install -U requests",
            "pip uninstall six",
            "npm ci",
        ],
    )
    image = report(capsys, path, "--files")
    layers = [layer["packages"] for layer in image["layers"]]
    site = "/" + SITE
    assert names(layers[0]["added"]) == [
        ("python", "requests", "2.31.0"),
        ("python", "six", "1.16.0"),
    ]
    assert {p["location"] for p in layers[0]["added"]} == {site}
    # installed_bytes: the sizes RECORD gives (METADATA's own row included)
    assert layers[0]["added"][1]["installed_bytes"] == 30 + 2 + _metadata_size("six", "1.16.0")
    assert [(u["name"], u["from"], u["to"]) for u in layers[1]["upgraded"]] == [
        ("requests", "2.31.0", "2.32.3")
    ]
    assert names(layers[2]["removed"]) == [("python", "six", "1.16.0")]
    assert names(layers[3]["added"]) == [
        ("npm", "@types/node", "20.11.0"),
        ("npm", "left-pad", "1.3.0"),
        ("npm", "tiny", "0.1.0"),
    ]
    assert [p["location"] for p in layers[3]["added"]] == [
        "/app/node_modules",
        "/app/node_modules",
        "/app/node_modules/left-pad/node_modules",
    ]
    owners = {c["path"]: c.get("owner") for layer in image["layers"] for c in layer["changes"]}
    assert owners[f"{site}/requests/api.py"] == "python:requests"
    assert owners["/usr/local/bin/six"] == "python:six"  # ../../../bin/six in RECORD
    assert owners["/app/node_modules/left-pad/index.js"] == "npm:left-pad"
    assert owners["/app/node_modules/@types/node/index.d.ts"] == "npm:@types/node"
    assert owners["/app/node_modules/left-pad/node_modules/tiny/i.js"] == "npm:tiny"
    assert owners["/app/server.js"] is None
    assert layers[3]["other_bytes"] == len(b"require('left-pad')\n")


def _metadata_size(name: str, version: str) -> int:
    entries = b.dist_info(SITE, name, version, {})
    return len(next(e for e in entries if e.name.endswith("METADATA")).data)


# -- RPM ----------------------------------------------------------------------------------------


def rpmdb(name: str) -> bytes:
    return gzip.decompress((DATA / "rpm" / f"{name}.rpmdb.sqlite.gz").read_bytes())


def test_rpm_headers_written_by_rpm():
    """`rpm -qa --qf '%{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH} %{SIZE}'` said
    lshello (none) 1.2.3 4 noarch 24 and lsother 2 0.9 1 noarch 24."""
    parsed = read_rpmdb_sqlite(rpmdb("installed"), "/var/lib/rpm")
    assert parsed.problems == []
    assert [(p.name, p.version, p.arch, p.installed_bytes) for p in parsed.packages] == [
        ("lshello", "1.2.3-4", "noarch", 24),
        ("lsother", "2:0.9-1", "noarch", 24),
    ]
    assert parsed.files[parsed.packages[0].key] == [
        "/usr/bin/lshello",
        "/usr/share/lshello",
        "/usr/share/lshello/greeting.txt",
    ]


def test_rpm_install_upgrade_remove(capsys, tmp_path):
    db = "var/lib/rpm/rpmdb.sqlite"
    path = archive(
        tmp_path,
        [
            [
                b.file("usr/bin/lshello", b"#!/bin/sh\necho hi\n"),
                b.file("usr/bin/lsother", b"#!/bin/sh\necho hi\n"),
                b.file(db, rpmdb("installed")),
                b.file(db + "-wal", b""),
            ],
            [b.file("usr/bin/lshello", b"#!/bin/sh\necho hey\n"), b.file(db, rpmdb("upgraded"))],
            [b.whiteout("usr/bin/lsother"), b.file(db, rpmdb("removed"))],
        ],
        ["dnf install lshello lsother", "dnf upgrade lshello", "dnf remove lsother"],
    )
    image = report(capsys, path, "--files")
    layers = [layer["packages"] for layer in image["layers"]]
    assert names(layers[0]["added"]) == [
        ("rpm", "lshello", "1.2.3-4"),
        ("rpm", "lsother", "2:0.9-1"),
    ]
    assert [(u["name"], u["from"], u["to"]) for u in layers[1]["upgraded"]] == [
        ("lshello", "1.2.3-4", "1.2.4-1")
    ]
    assert names(layers[2]["removed"]) == [("rpm", "lsother", "2:0.9-1")]
    owners = {c["path"]: c.get("owner") for layer in image["layers"] for c in layer["changes"]}
    assert owners["/usr/bin/lshello"] == "rpm:lshello"
    assert owners["/usr/bin/lsother"] == "rpm:lsother"


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"not sqlite at all" * 10, "not a readable SQLite database"),
        (b"", "not a readable SQLite database"),
        (b"SQLite format 3\0" + b"\xff" * 1000, "not a readable SQLite database"),
    ],
)
def test_rpm_database_that_cannot_be_read_is_said(data, phrase):
    parsed = read_rpmdb_sqlite(data, "/var/lib/rpm")
    assert parsed.packages == []
    assert phrase in parsed.problems[0]


def test_rpm_headers_that_lie_are_skipped_and_named(tmp_path):
    import sqlite3

    good = rpmdb("installed")
    conn = sqlite3.connect(":memory:")
    image = bytearray(good)
    image[18:20] = b"\x01\x01"
    conn.deserialize(bytes(image))
    blobs = [row[0] for row in conn.execute("SELECT blob FROM Packages ORDER BY hnum")]
    lies = [
        blobs[0][:-10],  # cut short
        blobs[0][:8] + b"\x00\x00\x00\x03\x00\x00\x00\x06\x7f\xff\xff\xf0" + blobs[0][20:],
    ]
    path = tmp_path / "lies.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    db.executemany("INSERT INTO Packages (blob) VALUES (?)", [(x,) for x in [*lies, blobs[1]]])
    db.commit()
    db.close()
    parsed = read_rpmdb_sqlite(path.read_bytes(), "/var/lib/rpm")
    assert [p.name for p in parsed.packages] == ["lsother"]
    assert len(parsed.problems) == 2
    assert all("unreadable header" in p for p in parsed.problems)


def test_rpm_sqlite_that_is_a_view_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "view.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
        " SELECT x AS hnum, x AS blob FROM c"
    )
    db.commit()
    db.close()
    parsed = read_rpmdb_sqlite(path.read_bytes(), "/var/lib/rpm")
    assert "has no Packages table" in parsed.problems[0]


def test_berkeley_db_rpm_is_named(capsys, tmp_path):
    path = archive(tmp_path, [[b.file("var/lib/rpm/Packages", b"\0" * 4096)]], ["centos7"])
    notes = report(capsys, path)["packages"]["notes"]
    assert any("Berkeley DB" in n and "/var/lib/rpm/Packages" in n for n in notes)


# -- versions -----------------------------------------------------------------------------------

VERSIONS = [
    ("1.0", "1.0"),
    ("1.0", "1.1"),
    ("1.0~rc1", "1.0"),
    ("1.0", "1.0+deb1"),
    ("2:1.0", "1:9.9"),
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u4"),
    ("1.2.3-r4", "1.2.3-r10"),
    ("1.0a", "1.0"),
    ("1.0", "1.0.0"),
    ("1.01", "1.1"),
    ("0.9", "0.10"),
    ("1.0-1", "1.0-1~bpo1"),
    ("1.0~~", "1.0~"),
    ("2.36-9+deb12u3", "2.36-9+deb12u4"),
]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg to compare with")
def test_version_order_is_dpkgs():
    for a, b_ in VERSIONS:
        expected = next(
            sign
            for op, sign in (("lt", -1), ("eq", 0), ("gt", 1))
            if subprocess.run(["dpkg", "--compare-versions", a, op, b_], check=False).returncode
            == 0
        )
        assert compare_versions(a, b_) == expected, (a, b_)


def test_text_report_lists_package_changes(capsys, debian):
    code = main(["report", "-q", str(debian)])
    out = capsys.readouterr().out
    assert code == 0
    section = out[out.index("  Packages (3 installed at the end)") :].splitlines()
    assert section[1:6] == [
        "  layer 0: 56% of its 1.76 KiB from packages:",
        "    + base-files 12.4+deb12u5",
        "    + libc6 2.36-9+deb12u3",
        "  layer 1: 27% of its 2.18 KiB from packages:",
        "    + curl 7.88.1-10+deb12u5",
    ]
    assert "    ↑ libc6 2.36-9+deb12u3 → 2.36-9+deb12u4" in section
    assert not any(line.startswith("  layer 2") for line in section)  # COPY: no packages


def test_installed_at_each_layer_replays_the_changes(debian):
    from layerscope.load import load

    packages = load([str(debian)]).packages[0]
    at = [[(p.name, p.version) for p in packages.installed_at(k)] for k in range(5)]
    assert at[0] == [("base-files", "12.4+deb12u5"), ("libc6", "2.36-9+deb12u3")]
    assert ("curl", "7.88.1-10+deb12u5") in at[1]
    assert ("libc6", "2.36-9+deb12u4") in at[3]
    assert "curl" not in dict(at[4])
    assert packages.installed_at(4) == packages.installed


def test_bytes_before_any_database_are_not_from_a_package(capsys, tmp_path):
    """Layers read before any package database own nothing: every file byte is `other`
    (directories and hardlinks ship none), and owning starts with the first database."""
    path = archive(
        tmp_path,
        [
            [b.dir("app"), b.file("app/a.bin", b"a" * 300), b.hardlink("app/b.bin", "app/a.bin")],
            [b.file("app/c.txt", b"c" * 7), b.symlink("app/d", "c.txt")],
            b.dist_info(SITE, "six", "1.16.0", {"six.py": b"s" * 30})
            + [b.file("app/e.txt", b"e" * 11)],
        ],
        ["COPY app /app", "COPY c.txt /app", "pip install six"],
    )
    layers = [layer["packages"] for layer in report(capsys, path)["layers"]]
    assert [(la["package_bytes"], la["other_bytes"]) for la in layers[:2]] == [(0, 300), (0, 7)]
    assert layers[2]["package_bytes"] >= 30  # six.py and its dist-info files
    assert layers[2]["other_bytes"] == 11
