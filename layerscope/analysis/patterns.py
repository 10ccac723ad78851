"""Path patterns of `--forbid` and `--ignore`: .gitignore syntax on the image's paths.

The rules, exactly (pathspec's implementation of Git's):

- A path is the absolute path in the image (`/etc/ssl/private/key.pem`); the pattern is
  matched against it without the leading `/`.
- `*` matches any characters except `/`; `?` one character except `/`; `[a-z]` one of a class.
- `**` as a whole component matches any number of directories: `**/x` is `x` at any depth,
  `x/**` is everything inside `x`, `a/**/b` is `b` at any depth below `a`.
- A pattern with no `/` (other than a trailing one) matches a name at any depth (`*.pem`,
  `.git`); one with a `/` at the start or in the middle is anchored at the root
  (`/root/.cache`, `opt/app/*.o`).
- A pattern that matches a directory matches everything below it (`/root/.cache` covers
  `/root/.cache/pip/x`); a trailing `/` (`tmp/`) matches only below a directory of that name.
- `!pattern` takes back what an earlier pattern matched; patterns apply in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence

import pathspec


class PatternError(ValueError):
    """A pattern that is not valid, or would match nothing (a comment, a blank)."""


class PathPatterns:
    """A compiled list of patterns; `matches(path)` for absolute image paths."""

    def __init__(self, patterns: Sequence[str]):
        self.patterns = tuple(patterns)
        for pattern in self.patterns:
            try:
                compiled = pathspec.GitIgnoreSpec.from_lines([pattern]).patterns
            except ValueError as exc:  # pathspec's GitIgnorePatternError
                raise PatternError(f"{pattern!r} is not a valid pattern ({exc})") from None
            if not compiled or compiled[0].include is None:
                raise PatternError(
                    f"{pattern!r} matches nothing (blank, a # comment or an unclosed [ in "
                    "gitignore syntax; write \\# for a leading #)"
                )
        self._spec = pathspec.GitIgnoreSpec.from_lines(list(self.patterns))
        self._cache: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str) -> bool:
        """Does the absolute path `path` (or a directory above it) match?"""
        hit = self._cache.get(path)
        if hit is None:
            hit = bool(self._spec.match_file(path.lstrip("/"))) if self.patterns else False
            self._cache[path] = hit
        return hit
