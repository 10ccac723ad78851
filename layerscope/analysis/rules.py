"""CI rules: thresholds on an image's figures, and the offenders behind a failing rule.

dive's three rules keep dive's names, defaults, value syntax and comparisons (dive 0.13,
`runtime/ci/rule.go`), so `.dive-ci` files carry over. layerscope's own rules read the
exact figures (REPORT.md) and are off unless set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from layerscope.analysis.dive import DiveFigures
from layerscope.analysis.patterns import PathPatterns
from layerscope.analysis.waste import Waste
from layerscope.format import short_command
from layerscope.model.entry import Kind
from layerscope.model.filesystem import FileSystem
from layerscope.model.image import Image

# -- values, as dive reads them -----------------------------------------------------------

# Words that switch a rule off: dive 0.13 knows "disabled"; dive's later releases also
# take off / false / an empty value, in any case.
DISABLED_WORDS = frozenset({"", "disabled", "off", "false"})

# go-humanize's ParseBytes units (dive parses highestWastedBytes with it): lower-cased,
# SI for kb/k, IEC for kib/ki.
_BYTE_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mi": 1024**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3,
    "t": 1000**4, "tb": 1000**4, "ti": 1024**4, "tib": 1024**4,
    "p": 1000**5, "pb": 1000**5, "pi": 1024**5, "pib": 1024**5,
    "e": 1000**6, "eb": 1000**6, "ei": 1024**6, "eib": 1024**6,
}  # fmt: skip
_NUMBER = re.compile(r"[0-9.,]*")
_GO_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

Value = str | int | float  # a flag's text, or a number from a YAML/TOML file


def is_disabled(value: Value) -> bool:
    return isinstance(value, str) and value.strip().lower() in DISABLED_WORDS


def parse_bytes(value: Value) -> int:
    """A size as dive reads it (go-humanize's ParseBytes): `20MB` is 20,000,000 bytes,
    `20MiB` 20,971,520, `20Mb` the same as `20MB` (units ignore case), `1.5 GB` allows a
    space, `4096` is bytes; fractions of a byte are dropped."""
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"not a size: {value!r}")
        if value >= 2**64:
            raise ValueError(f"size too large: {value!r}")
        return int(value)
    digits = _NUMBER.match(value)
    number = digits.group(0).replace(",", "") if digits else ""
    unit = value[len(digits.group(0)) if digits else 0 :].strip().lower()
    if not _GO_FLOAT.fullmatch(number) or unit not in _BYTE_UNITS:
        raise ValueError(f"not a size: {value!r} (try 20MB, 20MiB or 4096)")
    size = float(number) * _BYTE_UNITS[unit]
    if size >= 2**64:
        raise ValueError(f"size too large: {value!r}")
    return int(size)


def parse_ratio(value: Value) -> float:
    """`0.95` (dive's form) or `95%` -> 0.95, between 0 and 1."""
    if isinstance(value, int | float):
        ratio = float(value)
    else:
        text = value.strip()
        percent = text.endswith("%")
        number = text[:-1].strip() if percent else text
        if not _GO_FLOAT.fullmatch(number):
            raise ValueError(f"not a ratio: {value!r} (try 0.95 or 95%)")
        ratio = float(number) / 100 if percent else float(number)
    if not 0 <= ratio <= 1:
        raise ValueError(f"ratio {value!r} is outside 0..1")
    return ratio


def parse_count(value: Value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"not a count: {value!r} (a whole number, e.g. 20)")


# -- the rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    name: str  # the flag without dashes, and the key in layerscope.toml
    kind: str  # "min-ratio" | "max-ratio" | "max-bytes" | "max-count" | "forbid"
    figure: str  # what it reads, in words
    default: str  # "disabled" when off by default
    dive_key: str | None = None  # the key in .dive-ci (dive's rules only)
    help: str = ""


SPECS: tuple[RuleSpec, ...] = (
    RuleSpec(
        "lowest-efficiency", "min-ratio", "dive efficiency", "0.9", "lowestEfficiency",
        "fail below this dive efficiency (0..1)",
    ),
    RuleSpec(
        "highest-wasted-bytes", "max-bytes", "dive wasted bytes", "disabled",
        "highestWastedBytes", "fail above these dive wasted bytes (20MB, 20MiB)",
    ),
    RuleSpec(
        "highest-user-wasted-percent", "max-ratio", "dive user-wasted ratio", "0.1",
        "highestUserWastedPercent",
        "fail above this ratio of dive wasted bytes to the bytes above layer 0 (0..1)",
    ),
    RuleSpec(
        "min-efficiency", "min-ratio", "efficiency", "disabled", None,
        "fail below this exact efficiency, 1 - reclaimable/size (0..1 or 95%%)",
    ),
    RuleSpec(
        "max-reclaimable", "max-bytes", "reclaimable bytes", "disabled", None,
        "fail above these reclaimable bytes (what squashing would save)",
    ),
    RuleSpec(
        "max-reclaimable-ratio", "max-ratio", "reclaimable ratio", "disabled", None,
        "fail above this ratio of reclaimable bytes to the image size (0..1 or 5%%)",
    ),
    RuleSpec(
        "max-image-bytes", "max-bytes", "image size", "disabled", None,
        "fail above this image size (file bytes of every layer, uncompressed)",
    ),
    RuleSpec(
        "max-layers", "max-count", "layers", "disabled", None, "fail above this many layers"
    ),
    RuleSpec(
        "forbid", "forbid", "forbidden paths shipped", "disabled", None,
        "fail when any layer ships a path matching PATTERN, even one a later layer "
        "deletes (repeatable; .gitignore syntax)",
    ),
)  # fmt: skip
SPEC = {spec.name: spec for spec in SPECS}
DIVE_KEYS = {spec.dive_key: spec.name for spec in SPECS if spec.dive_key}


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    limit: float | None  # None: disabled (SKIP)
    source: str  # where the setting came from: "dive's default", ".dive-ci", "--forbid", ...
    patterns: PathPatterns | None = None  # forbid's

    @property
    def name(self) -> str:
        return self.spec.name


def make_rule(name: str, value: Value, source: str) -> Rule:
    """A rule from a setting's value (raises ValueError with the reason)."""
    spec = SPEC[name]
    if is_disabled(value):
        return Rule(spec, None, source)
    limit: float
    if spec.kind == "max-bytes":
        limit = float(parse_bytes(value))
    elif spec.kind == "max-count":
        limit = float(parse_count(value))
    elif spec.kind == "forbid":
        raise ValueError("forbid takes patterns")
    else:
        limit = parse_ratio(value)
    return Rule(spec, limit, source)


def forbid_rule(patterns: list[str], source: str) -> Rule:
    return Rule(SPEC["forbid"], 0.0, source, PathPatterns(patterns))


# -- evaluation ---------------------------------------------------------------------------


@dataclass
class Offender:
    """One thing behind a failing rule: a path (or a layer) with its bytes and the why."""

    path: str | None  # None when the offender is a whole layer
    bytes: int
    layer: int | None  # the layer that shipped it
    reason: str


@dataclass
class Outcome:
    rule: Rule
    status: str  # "pass" | "fail" | "skip"
    actual: float | None  # the figure; None when skipped or undefined (dive's NaN / Inf)
    note: str = ""  # why a figure is undefined
    offenders: list[Offender] = field(default_factory=list)  # the top ones, largest first
    offender_count: int = 0  # all of them

    @property
    def passed(self) -> bool:
        return self.status != "fail"


def _user_wasted(dive: DiveFigures) -> tuple[float | None, bool, str]:
    """dive's wasted / user size: (ratio, failed-when-undefined, note). dive divides floats:
    0/0 is NaN, which no threshold exceeds; x/0 is +Inf, which every threshold does."""
    if dive.user_size_bytes:
        return dive.wasted_bytes / dive.user_size_bytes, False, ""
    if dive.wasted_bytes:
        return None, True, "infinite: dive wasted bytes over 0 bytes above layer 0"
    return None, False, "undefined: 0 wasted over 0 bytes above layer 0 (dive passes it)"


def _history(fs: FileSystem, path: str, shipped_in: int | None = None) -> str:
    """Which layers shipped a path and what became of it, in a few words."""
    node = fs.lookup(path)
    if node is None:
        return ""
    layers = sorted({v.layer for v in node.versions if v.entry is not None and v.layer >= 0})
    where = "shipped by layer" + ("s " if len(layers) > 1 else " ") + ", ".join(map(str, layers))
    last = node.versions[-1]
    if shipped_in is not None:
        later = [v for v in node.versions if v.layer > shipped_in]
        if not later:
            return "in the final filesystem"
        first = later[0]
        what = "deleted" if first.entry is None else "overwritten"
        return f"{what} in layer {first.layer}, yet its bytes still ship"
    if last.entry is None:
        return f"{where}; deleted in layer {last.layer}"
    return f"{where}; the final copy is layer {last.layer}'s"


def _dive_offenders(image: Image, dive: DiveFigures, top: int) -> list[Offender]:
    fs = image.filesystem
    return [
        Offender(f.path, f.wasted_bytes, None, f"dive counts it {f.count}x; {_history(fs, f.path)}")
        for f in dive.inefficient_files[:top]
    ]


def _waste_offenders(waste: Waste, top: int) -> list[Offender]:
    out = []
    for d in waste.dead_files[:top]:
        if d.killed_by is None:
            reason = "shipped twice in that layer"
        else:
            reason = f"{d.fate} in layer {d.killed_by}"
        out.append(Offender(d.path, d.size, d.layer, reason))
    return out


def _layer_offenders(image: Image) -> list[Offender]:
    layers = sorted(image.layers, key=lambda layer: (-layer.size_bytes, layer.index))
    return [
        Offender(None, layer.size_bytes, layer.index, short_command(layer.created_by) or "")
        for layer in layers
        if layer.size_bytes
    ]


def forbidden_shipments(image: Image, patterns: PathPatterns) -> list[Offender]:
    """Every non-directory entry any layer ships at a matching path, largest first.

    A later layer deleting the path does not help: the bytes ship in the earlier layer.
    """
    out: list[Offender] = []
    for layer in image.layers:
        for entry in layer.entries:
            if entry.kind == Kind.DIR or entry.kind >= Kind.WHITEOUT:
                continue
            if patterns.matches(entry.path):
                reason = _history(image.filesystem, entry.path, layer.index)
                out.append(Offender(entry.path, entry.size, layer.index, reason))
    out.sort(key=lambda o: (-o.bytes, o.path or "", o.layer or 0))
    return out


def _figure(
    rule: Rule, image: Image, waste: Waste, dive: DiveFigures
) -> tuple[float | None, bool, str, list[Offender]]:
    """(the figure, failed-when-undefined, why undefined, forbid's matches) of one rule."""
    name = rule.name
    if name == "highest-user-wasted-percent":
        ratio, undefined_fails, note = _user_wasted(dive)
        return ratio, undefined_fails, note, []
    if name == "forbid":
        assert rule.patterns is not None
        matches = forbidden_shipments(image, rule.patterns)
        return len(matches), False, "", matches
    size = image.size_bytes
    figures: dict[str, float] = {
        "lowest-efficiency": dive.efficiency,
        "highest-wasted-bytes": dive.wasted_bytes,
        "min-efficiency": waste.efficiency,
        "max-reclaimable": waste.reclaimable_bytes,
        "max-reclaimable-ratio": waste.reclaimable_bytes / size if size else 0.0,
        "max-image-bytes": size,
        "max-layers": len(image.layers),
    }
    return figures[name], False, "", []


def evaluate(
    rules: list[Rule], image: Image, waste: Waste, dive: DiveFigures, *, top: int = 5
) -> list[Outcome]:
    """Each rule's outcome on one image (the figure too when the rule is disabled); a
    failing rule carries its `top` offenders, largest first."""
    out: list[Outcome] = []
    for rule in rules:
        actual, failed, note, offenders = _figure(rule, image, waste, dive)
        if rule.limit is None:
            out.append(Outcome(rule, "skip", actual, note))
            continue
        if actual is not None:
            if rule.spec.kind == "min-ratio":
                failed = actual < rule.limit
            else:
                failed = actual > rule.limit
        outcome = Outcome(rule, "fail" if failed else "pass", actual, note)
        if failed:
            count = len(offenders)
            if rule.spec.figure.startswith("dive"):
                offenders = _dive_offenders(image, dive, top)
                count = len(dive.inefficient_files)
            elif rule.name in ("min-efficiency", "max-reclaimable", "max-reclaimable-ratio"):
                offenders = _waste_offenders(waste, top)
                count = len(waste.dead_files)
            elif rule.name == "max-image-bytes":
                offenders = _layer_offenders(image)
                count = len(offenders)
            outcome.offenders = offenders[:top]
            outcome.offender_count = count
        out.append(outcome)
    return out
