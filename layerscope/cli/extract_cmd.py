"""`layerscope extract`: files, directories or a whole layer out of an image, safely."""

from __future__ import annotations

import argparse
import os
import sys

from layerscope.cli.common import (
    StderrProgress,
    add_read_options,
    cache_for,
    check_output_dir,
    check_output_file,
    limits_from,
    warn_about,
)
from layerscope.cli.exits import EXIT_OK
from layerscope.cli.remote_options import remote_options_from
from layerscope.cli.specs import parse_image_spec, resolve
from layerscope.errors import LayerscopeError
from layerscope.extract import (
    Output,
    StreamTarOutput,
    TarOutput,
    copy_layer_tar,
    extract,
    save_layer_tar,
)
from layerscope.format import human_size, plural, printable
from layerscope.load import Progress, load
from layerscope.remote import is_remote
from layerscope.remote.schemes import REGISTRY, scheme_of
from layerscope.safewrite import SafeWriter

STDOUT = "-"  # --tar - and --layer-tar -: the tar on standard output


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "extract",
        help="get files, directories or a layer's tar out of an image",
        description="Write PATHs (default: the whole filesystem) as they stand at a layer of "
        "an image into a directory (--to) or a tar file (--tar), or save one layer's tar as "
        "it is (--layer-tar). The source is ARCHIVE[:IMAGE][@LAYER] (without @LAYER: the "
        "final filesystem). Nothing is written outside the destination: names are checked, "
        "symlinks are written as symlinks and never followed, device nodes are skipped, "
        "setuid/setgid bits are dropped (a --tar keeps the image's modes, as a tar would), and "
        "existing files are kept unless --force.",
    )
    p.add_argument("source", metavar="ARCHIVE[:IMAGE][@LAYER]")
    p.add_argument("paths", nargs="*", metavar="PATH", help="paths in the image (default: /)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="DIR", help="write the files into DIR (made if missing)")
    where.add_argument(
        "--tar", metavar="FILE", help="write them as a tar file instead ('-': standard output)"
    )
    where.add_argument(
        "--layer-tar",
        metavar="FILE",
        help="save the layer's own tar, whiteouts included ('-': standard output)",
    )
    p.add_argument("--force", action="store_true", help="replace files that already exist")
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec = parse_image_spec(args.source)
    if is_remote(spec.archive) and scheme_of(spec.archive) != REGISTRY:
        # extraction reads layers again after the load; an engine's export is read once
        raise LayerscopeError(
            f"{spec.archive}: extract reads saved archives and registry images; save the "
            "image first (podman save, docker save, or skopeo copy ... oci-archive:FILE)"
        )
    if args.to is not None:
        check_output_dir("--to", args.to)
    to_stdout = STDOUT in (args.tar, args.layer_tar)  # `--tar - | tar t`
    for option, target in (("--tar", args.tar), ("--layer-tar", args.layer_tar)):
        if target == STDOUT and sys.stdout.isatty():
            raise LayerscopeError(
                f"{option} -: standard output is a terminal; pipe it (| tar t) or name a file"
            )
        if target is not None and target != STDOUT:
            check_output_file(option, target)
    # the tar is on stdout: what the command says goes to stderr
    say = sys.stderr if to_stdout else sys.stdout
    limits = limits_from(args.limit)
    progress = StderrProgress(not args.quiet)
    cache = cache_for(args)
    try:
        analysis = load(
            [spec.archive],
            limits=limits,
            progress=progress,
            verify=args.verify,
            remote=remote_options_from(args),
            cache=cache,
        )
        resolved = resolve(spec, analysis, 0)
        image = resolved.image(analysis)
        if args.layer_tar:
            if args.paths:
                raise LayerscopeError("--layer-tar saves a whole layer: give no PATH")
            if args.layer_tar == STDOUT:
                size = copy_layer_tar(
                    image, resolved.layer, lambda: sys.stdout.buffer, limits=limits
                )
            else:
                size = save_layer_tar(
                    image, resolved.layer, args.layer_tar, force=args.force, limits=limits
                )
            where = "standard output" if args.layer_tar == STDOUT else args.layer_tar
            say.write(f"Saved layer {resolved.layer} ({human_size(size)} tar) to {where}\n")
            return EXIT_OK
        output: Output
        made = _first_missing(args.to) if args.to else None
        if args.to:
            try:
                output = SafeWriter(args.to, force=args.force)
            except OSError as exc:
                raise LayerscopeError(
                    f"--to {args.to}: cannot make it a directory ({exc.strerror or exc})"
                ) from None
        elif args.tar == STDOUT:
            output = StreamTarOutput(sys.stdout.buffer)
        else:
            output = TarOutput(args.tar, force=args.force)
        try:
            summary = extract(
                image,
                resolved.layer,
                args.paths or ["/"],
                output,
                limits=limits,
                progress=lambda done, total: progress(Progress("Extracting", done, total)),
            )
        except BaseException:
            output.close()
            if made is not None:  # nothing was written: nor is the directory left behind
                _remove_if_empty(args.to, made)
            raise
        output.close()
    finally:
        progress.done()
        warn_about(cache)
    # a directory is named with one trailing separator, however the user wrote it
    target = (args.to.rstrip(os.sep) or os.sep) + os.sep if args.to else args.tar
    if target == STDOUT:
        target = "standard output"
    parts = [f"{plural(summary.files, 'file')} ({human_size(summary.bytes)})"]
    for count, word, words in (
        (summary.directories, "directory", "directories"),
        (summary.symlinks, "symlink", None),
        (summary.hardlinks, "hardlink", None),
    ):
        if count:
            parts.append(plural(count, word, words))
    say.write(f"Wrote {', '.join(parts)} to {target}\n")
    if summary.skipped:
        say.write(f"Skipped {len(summary.skipped)}:\n")
        say.writelines(f"  {printable(s)}\n" for s in summary.skipped[:20])
        if len(summary.skipped) > 20:
            say.write(f"  … and {len(summary.skipped) - 20} more\n")
    if summary.outward_links:
        n = len(summary.outward_links)
        say.write(
            f"{plural(n, 'symlink')} {'points' if n == 1 else 'point'} outside the destination "
            f"(written as links, never followed), e.g. {printable(summary.outward_links[0])}\n"
        )
    return EXIT_OK


def _first_missing(path: str) -> str | None:
    """The outermost directory of `path` that does not exist yet (None: it all exists)."""
    missing = None
    while path and not os.path.lexists(path):
        missing, path = path, os.path.dirname(path.rstrip(os.sep))
    return missing


def _remove_if_empty(path: str, made: str) -> None:
    """Take back the directories from `path` up to `made` that this command made, while
    they are empty."""
    while True:
        try:
            os.rmdir(path)
        except OSError:
            return
        if os.path.normpath(path) == os.path.normpath(made):
            return
        path = os.path.dirname(path.rstrip(os.sep))
