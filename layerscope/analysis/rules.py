"""CI rules: thresholds on the figures, with dive's rule names so `.dive-ci` values carry over."""

from __future__ import annotations

import re
from dataclasses import dataclass

from layerscope.analysis.dive import DiveFigures
from layerscope.analysis.waste import Waste

_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
    "k": 1000, "m": 1000**2, "g": 1000**3,
}  # fmt: skip


def parse_bytes(text: str) -> int:
    """`20MB`, `1.5GiB`, `4096` -> bytes (dive accepts the decimal forms)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (try 20MB or 1.5GiB)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_ratio(text: str) -> float:
    """`0.95` or `95%` -> 0.95."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise ValueError(f"not a ratio: {text!r} (try 0.95 or 95%)") from None
    if not 0 <= value <= 1:
        raise ValueError(f"ratio out of range 0..1: {text!r}")
    return value


@dataclass(frozen=True)
class Rule:
    name: str  # the command-line flag without dashes
    kind: str  # "min-ratio" | "max-bytes" | "max-ratio"
    figure: str  # what it reads, for the output
    limit: float


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    actual: float | None  # None when the figure does not exist (dive's NaN)
    passed: bool


def _actual(rule: Rule, waste: Waste, dive: DiveFigures) -> float | None:
    return {
        "lowest-efficiency": dive.efficiency,
        "highest-wasted-bytes": float(dive.wasted_bytes),
        "highest-user-wasted-percent": dive.user_wasted_percent,
        "min-efficiency": waste.efficiency,
        "max-reclaimable": float(waste.reclaimable_bytes),
    }[rule.name]


def evaluate(rules: list[Rule], waste: Waste, dive: DiveFigures) -> list[Outcome]:
    out: list[Outcome] = []
    for rule in rules:
        actual = _actual(rule, waste, dive)
        if actual is None:
            passed = True  # dive skips a rule whose figure is NaN
        elif rule.kind == "min-ratio":
            passed = actual >= rule.limit
        else:
            passed = actual <= rule.limit
        out.append(Outcome(rule, actual, passed))
    return out


RULES = {
    # dive's rules (its figures)
    "lowest-efficiency": ("min-ratio", "dive efficiency"),
    "highest-wasted-bytes": ("max-bytes", "dive wasted bytes"),
    "highest-user-wasted-percent": ("max-ratio", "dive user-wasted ratio"),
    # the exact figures
    "min-efficiency": ("min-ratio", "efficiency"),
    "max-reclaimable": ("max-bytes", "reclaimable bytes"),
}


def make_rule(name: str, value: str) -> Rule:
    kind, figure = RULES[name]
    limit = float(parse_bytes(value)) if kind == "max-bytes" else parse_ratio(value)
    return Rule(name, kind, figure, limit)
