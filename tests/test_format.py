"""Text as people read it: long shell commands broken into steps, sizes, plurals."""

from __future__ import annotations

from layerscope.format import command_lines, human_size, plural, short_command


def test_a_long_run_line_breaks_at_semicolons_ands_and_continuations() -> None:
    created_by = (
        "RUN /bin/sh -c set -eux; \\\n    apt-get update;   apt-get install -y curl"
        " && rm -rf /var/lib/apt/lists/* || true # buildkit"
    )
    assert command_lines(created_by) == [
        "RUN set -eux;",
        "    apt-get update;",
        "    apt-get install -y curl",
        "    && rm -rf /var/lib/apt/lists/*",
        "    || true",
    ]


def test_an_operator_before_a_continuation_starts_the_next_line() -> None:
    r"""`apt-get update && \` (the official images' style): `&&` opened a line of its own."""
    created_by = "/bin/sh -c apt-get update && \\\n    apt-get install -y curl || \\\n  true"
    assert command_lines(created_by) == [
        "RUN apt-get update",
        "    && apt-get install -y curl",
        "    || true",
    ]


def test_quoted_text_and_case_terminators_are_never_broken() -> None:
    lines = command_lines('/bin/sh -c echo \'a; b && c\' "x;\\"y"; case $x in a) ;; esac')
    assert lines == ['RUN echo \'a; b && c\' "x;\\"y";', "    case $x in a) ;; esac"]


def test_metadata_steps_and_empty_history() -> None:
    assert command_lines("/bin/sh -c #(nop)  ENV A=1") == ["ENV A=1"]
    assert command_lines(None) == []
    assert command_lines("") == []


def test_the_one_line_form_drops_continuations() -> None:
    assert short_command("RUN /bin/sh -c a \\\n  && b # buildkit") == "RUN a && b"


def test_sizes_keep_three_digits_and_never_switch_to_exponents() -> None:
    assert human_size(300) == "300 B"
    assert human_size(1_310_720) == "1.25 MiB"
    assert human_size(1023 * 1024) == "1023 KiB"  # not '1.02e+03 KiB'
    assert human_size(1000 * 1024 * 1024) == "1000 MiB"


def test_plural() -> None:
    assert plural(1, "layer") == "1 layer"
    assert plural(11, "layer") == "11 layers"
    assert plural(90_001, "file") == "90,001 files"
    assert plural(2, "match", "matches") == "2 matches"
