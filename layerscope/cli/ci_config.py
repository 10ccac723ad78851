"""Where `layerscope ci` finds its rules, and which source wins.

Precedence, highest first (each rule takes its value from the first source that sets it):

1. command-line flags (`--lowest-efficiency 0.95`, `--max-layers 20`, ...)
2. `--config FILE`: a `.dive-ci` (YAML), a `layerscope.toml`, or a `pyproject.toml`
   (its `[tool.layerscope]` table). With `--config`, nothing else is looked for.
3. in the current directory: `layerscope.toml`, or else `[tool.layerscope]` in
   `pyproject.toml`
4. in the current directory: `.dive-ci` (dive's three rules, read as dive reads them)
5. the defaults: dive's (lowest-efficiency 0.9, highest-wasted-bytes disabled,
   highest-user-wasted-percent 0.1); layerscope's own rules are off.

`forbid` and `ignore` patterns add up instead: those of the config file first, then the
flags' (so a flag's `!pattern` can take back a file's pattern). `--no-config` reads no file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

import yaml

from layerscope.analysis.patterns import PathPatterns, PatternError
from layerscope.analysis.rules import DIVE_KEYS, SPEC, SPECS, Rule, Value, forbid_rule, make_rule
from layerscope.errors import LayerscopeError

DIVE_CI = ".dive-ci"
LAYERSCOPE_TOML = "layerscope.toml"
PYPROJECT = "pyproject.toml"
_MAX_CONFIG_BYTES = 1 << 20
_LIST_KEYS = ("forbid", "ignore")


class ConfigError(LayerscopeError):
    """A config file that cannot be used: named, with the problem, in one line."""


@dataclass(frozen=True)
class Setting:
    value: Value
    source: str  # shown in the output: a file, a flag, "dive's default"
    where: str  # named in errors: "--max-layers", ".dive-ci: rules.lowestEfficiency"


@dataclass
class Settings:
    """Each rule's value and where it came from, and the patterns, before parsing."""

    values: dict[str, Setting] = field(default_factory=dict)
    forbid: list[tuple[str, str]] = field(default_factory=list)  # (pattern, source)
    ignore: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the config files read
    notes: list[str] = field(default_factory=list)  # for stderr: keys dive ignores too

    def set(self, name: str, value: Value, source: str, where: str | None = None) -> None:
        self.values[name] = Setting(value, source, where or source)


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than 1 MiB; not a config file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def _scalar(path: str, key: str, value: Any) -> Value:
    """A YAML/TOML value as dive would see it: numbers stay numbers, booleans are words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return value
    raise ConfigError(f"{path}: {key}: expected a number or a word, not {type(value).__name__}")


def read_dive_ci(path: str, settings: Settings) -> None:
    """dive's `.dive-ci`: YAML with a `rules:` mapping of its three rules.

    As dive (viper) does: keys ignore case, a missing or null key keeps the default, other
    keys are ignored (a note on stderr says so).
    """
    text = _read_text(path)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'rules:' key")
    for key in doc:
        if key != "rules":  # dive's `plugins:`: dive itself reads no more than the rules
            settings.notes.append(f"{path}: {key} is not one of dive's rules; ignored")
    rules = doc.get("rules")
    if rules is None:
        return
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: 'rules' should be a mapping of rule names to values")
    by_lower = {k.lower(): v for k, v in DIVE_KEYS.items()}
    by_lower.update({name: name for name in DIVE_KEYS.values()})  # dive's later spelling
    for key, value in rules.items():
        name = by_lower.get(str(key).lower())
        if name is None:
            settings.notes.append(f"{path}: rules.{key} is not one of dive's rules; ignored")
            continue
        if value is None:
            continue
        settings.set(name, _scalar(path, f"rules.{key}", value), path, f"{path}: rules.{key}")


def _settings_table(path: str, doc: dict[str, Any], table: str | None) -> dict[str, Any] | None:
    if table is None:
        return doc
    node: Any = doc
    for part in table.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is not None and not isinstance(node, dict):
        raise ConfigError(f"{path}: [{table}] should be a table")
    return node


def read_toml(path: str, settings: Settings, table: str | None) -> bool:
    """layerscope.toml (top level) or pyproject.toml ([tool.layerscope]); False if the
    file has no such table."""
    text = _read_text(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values = _settings_table(path, doc, table)
    if values is None:
        return False
    prefix = f"[{table}] " if table else ""
    for key, value in values.items():
        name = str(key).replace("_", "-")
        name = DIVE_KEYS.get(str(key), name)
        if name in _LIST_KEYS:
            patterns = [value] if isinstance(value, str) else value
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise ConfigError(f"{path}: {prefix}{key}: expected a list of patterns")
            getattr(settings, name).extend((p, path) for p in patterns)
        elif name in SPEC and name != "forbid":
            settings.set(
                name, _scalar(path, f"{prefix}{key}", value), path, f"{path}: {prefix}{key}"
            )
        else:
            known = ", ".join([s.name for s in SPECS] + ["ignore"])
            raise ConfigError(f"{path}: {prefix}{key} is not a setting (settings: {known})")
    return True


def read_config_file(path: str, settings: Settings) -> None:
    """`--config FILE`: the format from the file's name."""
    base = os.path.basename(path)
    if base == PYPROJECT:
        if not read_toml(path, settings, "tool.layerscope"):
            raise ConfigError(f"{path}: has no [tool.layerscope] table")
    elif base.endswith(".toml"):
        read_toml(path, settings, None)
    else:
        read_dive_ci(path, settings)
    settings.files.append(path)


def discover(settings: Settings, directory: str = ".") -> None:
    """The config files of the current directory, lowest precedence first."""
    dive_ci = os.path.normpath(os.path.join(directory, DIVE_CI))
    if os.path.isfile(dive_ci):
        read_dive_ci(dive_ci, settings)
        settings.files.append(dive_ci)
    own = os.path.normpath(os.path.join(directory, LAYERSCOPE_TOML))
    pyproject = os.path.normpath(os.path.join(directory, PYPROJECT))
    if os.path.isfile(own):
        read_toml(own, settings, None)
        settings.files.append(own)
    elif os.path.isfile(pyproject) and read_toml(pyproject, settings, "tool.layerscope"):
        settings.files.append(f"{pyproject} [tool.layerscope]")


def gather(
    flags: dict[str, str],
    forbid: list[str],
    ignore: list[str],
    *,
    config: str | None,
    use_files: bool = True,
    directory: str = ".",
) -> Settings:
    """All sources merged by precedence (see the module's docstring)."""
    settings = Settings()
    for spec in SPECS:
        if spec.dive_key:  # dive's rules always run; layerscope's only when set
            settings.set(spec.name, spec.default, "dive's default")
    if config is not None:
        read_config_file(config, settings)
    elif use_files:
        discover(settings, directory)
    for name, value in flags.items():
        settings.set(name, value, f"--{name}")
    settings.forbid.extend((p, "--forbid") for p in forbid)
    settings.ignore.extend((p, "--ignore") for p in ignore)
    return settings


def _patterns_from(items: list[tuple[str, str]], what: str) -> list[str]:
    for pattern, source in items:
        try:
            PathPatterns([pattern])
        except PatternError as exc:
            where = source if source.startswith("--") else f"{source}: {what}"
            raise ConfigError(f"{where}: {exc}") from None
    return [p for p, _ in items]


def build_rules(settings: Settings) -> tuple[list[Rule], PathPatterns | None]:
    """The rules to evaluate (in SPECS order: dive's three always, layerscope's when set)
    and the ignore patterns; a value that does not parse is named with its source."""
    rules: list[Rule] = []
    for spec in SPECS:
        if spec.name == "forbid":
            if settings.forbid:
                patterns = _patterns_from(settings.forbid, "forbid")
                sources = sorted({s for _, s in settings.forbid})
                rules.append(forbid_rule(patterns, ", ".join(sources)))
            continue
        setting = settings.values.get(spec.name)
        if setting is None:
            continue
        try:
            rules.append(make_rule(spec.name, setting.value, setting.source))
        except ValueError as exc:
            raise ConfigError(f"{setting.where}: {exc}") from None
    ignore = PathPatterns(_patterns_from(settings.ignore, "ignore")) if settings.ignore else None
    return rules, ignore
