"""What `layerscope ci` prints: a line per rule, the offenders of a failing rule, a
summary; the same as JSON (`layerscope.ci/1`) and as a JUnit XML file for CI systems.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from layerscope.analysis import Analysis
from layerscope.analysis.rules import Offender, Outcome, parse_bytes
from layerscope.format import human_size as size
from layerscope.format import printable

CI_SCHEMA = "layerscope.ci/1"


@dataclass
class ImageResult:
    index: int  # the image's index in the analysis
    outcomes: list[Outcome]


def _label(analysis: Analysis, index: int) -> str:
    image = analysis.images[index]
    label = image.ref or image.config_digest[:19]
    if image.platform and len(analysis.images) > 1:
        label += f" ({image.platform})"
    if len(analysis.archives) > 1:  # one image name can come from two files
        label += f" from {analysis.archives[image.archive_index].path}"
    return label


def _value(kind: str, value: float) -> str:
    if kind == "max-bytes":
        return size(int(value))
    if kind in ("max-count", "forbid"):
        return f"{int(value):,}"
    return f"{value:.2%}"


def _compared(kind: str, actual: float, limit: float) -> tuple[str, str]:
    """The figure and the threshold as people read them, precise enough to be told apart
    (1,311,033 B > 1,311,032 B, not 1.25 MiB > 1.25 MiB), and a threshold the rounding
    changes named exactly (`20MB` is 19.1 MiB (20,000,000 B), not 19.1 MiB)."""
    shown_actual, shown_limit = _value(kind, actual), _value(kind, limit)
    if kind == "max-bytes":
        if shown_actual == shown_limit and actual != limit:
            return f"{int(actual):,} B", f"{int(limit):,} B"
        if parse_bytes(shown_limit.replace(" ", "")) != limit:
            shown_limit += f" ({int(limit):,} B)"
    elif kind not in ("max-count", "forbid"):
        digits = 2
        while shown_actual == shown_limit and actual != limit and digits < 12:
            digits += 1
            shown_actual, shown_limit = f"{actual:.{digits}%}", f"{limit:.{digits}%}"
    return shown_actual, shown_limit


def describe(o: Outcome) -> str:
    """`dive efficiency 68.16% < 90.00%`: the figure, how it compares, the threshold."""
    spec = o.rule.spec
    if o.status == "skip":
        if spec.kind == "forbid" or o.actual is None:
            return "disabled"
        return f"disabled ({spec.figure} {_value(spec.kind, o.actual)})"
    if o.actual is None:
        return f"{spec.figure} is {o.note}"
    assert o.rule.limit is not None
    if spec.kind == "min-ratio":
        op = ">=" if o.passed else "<"
    else:
        op = "<=" if o.passed else ">"
    actual, limit = _compared(spec.kind, o.actual, o.rule.limit)
    text = f"{spec.figure} {actual} {op} {limit}"
    if spec.kind == "forbid" and o.rule.patterns is not None:
        text += " (" + ", ".join(o.rule.patterns.patterns) + ")"
    return text


def _offender_text(f: Offender) -> str:
    where = f.path if f.path is not None else f"layer {f.layer}"
    shipped = f"layer {f.layer}: " if f.path is not None and f.layer is not None else ""
    return f"{size(f.bytes):>10}  {where}  — {shipped}{f.reason}"


def _tally(results: list[ImageResult]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for r in results:
        for o in r.outcomes:
            counts[o.status] += 1
    return counts


def passed(results: list[ImageResult]) -> bool:
    return all(o.passed for r in results for o in r.outcomes)


def ci_text(
    analysis: Analysis, results: list[ImageResult], sources: list[str], ignore: list[str]
) -> str:
    lines: list[str] = []
    width = max((len(o.rule.name) for r in results for o in r.outcomes), default=0)
    for r in results:
        lines.append(f"Image {r.index}: {printable(_label(analysis, r.index))}")
        for o in r.outcomes:
            lines.append(
                f"  {o.status.upper()}  {o.rule.name:<{width}}  {describe(o)}  [{o.rule.source}]"
            )
            if o.offenders:
                lines.extend(f"        {printable(_offender_text(f))}" for f in o.offenders)
                more = o.offender_count - len(o.offenders)
                if more > 0:
                    lines.append(f"        … and {more:,} more (--top N, or --json)")
    tally = _tally(results)
    verdict = "PASS" if passed(results) else "FAIL"
    parts = [f"{tally[k]} {word}" for k, word in (("fail", "failed"), ("pass", "passed"),
                                                   ("skip", "skipped")) if tally[k]]  # fmt: skip
    images = len(results)
    lines.append(
        f"Result: {verdict} — {', '.join(parts) or 'no rules'}"
        f" ({images} image{'' if images == 1 else 's'})"
    )
    lines.append("Config: " + (", ".join(sources) if sources else "none (defaults and flags)"))
    if ignore:
        lines.append("Ignored in the waste figures: " + ", ".join(ignore))
    return "\n".join(lines) + "\n"


def _finite(value: float | None) -> float | None:
    return (
        None if value is None or value != value or value in (float("inf"), -float("inf")) else value
    )


def ci_json(
    analysis: Analysis, results: list[ImageResult], sources: list[str], ignore: list[str]
) -> dict[str, Any]:
    tally = _tally(results)
    return {
        "schema": CI_SCHEMA,
        "passed": passed(results),
        "summary": {"passed": tally["pass"], "failed": tally["fail"], "skipped": tally["skip"]},
        "config_files": sources,
        "ignore": ignore,
        "images": [
            {
                "image": r.index,
                "ref": analysis.images[r.index].ref,
                "platform": analysis.images[r.index].platform,
                "archive": analysis.archives[analysis.images[r.index].archive_index].path,
                "rules": [
                    {
                        "rule": o.rule.name,
                        "figure": o.rule.spec.figure,
                        "limit": o.rule.limit,
                        "actual": _finite(o.actual),
                        "passed": o.passed,
                        "status": o.status,
                        "source": o.rule.source,
                        "message": describe(o),
                        "patterns": list(o.rule.patterns.patterns) if o.rule.patterns else None,
                        "offender_count": o.offender_count,
                        "offenders": [
                            {
                                "path": f.path,
                                "bytes": f.bytes,
                                "layer": f.layer,
                                "reason": f.reason,
                            }
                            for f in o.offenders
                        ],
                    }
                    for o in r.outcomes
                ],
            }
            for r in results
        ],
    }


# XML 1.0 allows neither control characters (but tab, newline, CR) nor lone surrogates,
# which is how names that are not UTF-8 arrive; show them as escapes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def ci_junit(analysis: Analysis, results: list[ImageResult]) -> bytes:
    """A JUnit XML report: a test suite per image, a test case per rule."""
    suites = ET.Element("testsuites", name="layerscope ci")
    total = _tally(results)
    suites.set("tests", str(sum(total.values())))
    suites.set("failures", str(total["fail"]))
    suites.set("skipped", str(total["skip"]))
    for r in results:
        tally = _tally([r])
        label = _xml_text(_label(analysis, r.index))
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"layerscope ci: image {r.index} {label}",
            tests=str(len(r.outcomes)),
            failures=str(tally["fail"]),
            errors="0",
            skipped=str(tally["skip"]),
        )
        for o in r.outcomes:
            case = ET.SubElement(
                suite, "testcase", classname=f"layerscope.ci.image{r.index}", name=o.rule.name
            )
            message = _xml_text(describe(o))
            if o.status == "skip":
                ET.SubElement(case, "skipped", message=message)
            elif o.status == "fail":
                failure = ET.SubElement(case, "failure", message=message, type=o.rule.name)
                body = [message, f"(from {o.rule.source})"]
                body.extend(_xml_text(_offender_text(f)) for f in o.offenders)
                more = o.offender_count - len(o.offenders)
                if more > 0:
                    body.append(f"… and {more:,} more")
                failure.text = "\n".join(body)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{message} (from {_xml_text(o.rule.source)})"
    ET.indent(suites)
    xml: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"
