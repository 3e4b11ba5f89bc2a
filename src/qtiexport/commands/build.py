"""`qtiexport build`: validate, render, check against the schemas, and package."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from qtiexport.build import (
    TARGETS,
    BuiltPackage,
    CachePlan,
    SchemaViolation,
    build_course,
    claimed_output,
)
from qtiexport.cache import CACHE_FOLDER, BuildCache, key_path
from qtiexport.commands.options import course_path, error_format, report_errors
from qtiexport.diagnostics import ContentError, display_path
from qtiexport.package import CommitIncomplete, OutputBusy, OutputRefused, PackageError
from qtiexport.parallel import WorkerDied, release_kept
from qtiexport.schemas import (
    BUNDLED_FOLDER,
    ENVIRONMENT_VARIABLE,
    SchemaFolderError,
    SchemaSet,
    schema_folder,
)
from qtiexport.timing import StageTimes
from qtiexport.validate import validate_course


@click.command()
@course_path
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default="build",
    show_default=True,
    help="Folder for the zips (and the unzipped trees with --tree); never the course folder, "
    "a folder inside it or one that contains it.",
)
@click.option(
    "--target",
    type=click.Choice([*TARGETS, "all"]),
    default="all",
    show_default=True,
    help="Which package to build.",
)
@click.option(
    "--schemas",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help=f"Folder of the official XSDs; default ${ENVIRONMENT_VARIABLE}, else the copy shipped "
    "with qtiexport. Every document is checked against them before anything is written.",
)
@click.option(
    "--no-schema-check",
    is_flag=True,
    help="Write the packages without checking them against the official XSDs.",
)
@click.option(
    "--tree",
    is_flag=True,
    help="Also write each package unzipped, under DIR/<course-id>/<target>/, to read or diff. "
    "Without it, a tree an earlier build wrote there is removed, as it would no longer "
    "match the zip.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help=f"Build every case afresh, without reading the build cache (DIR/{CACHE_FOLDER}/); "
    "the cache is then written anew for the next build.",
)
@click.option(
    "--timings",
    is_flag=True,
    help="Print the seconds spent in each stage (on standard error).",
)
@error_format
def build(
    path: Path,
    output: Path,
    target: str,
    schemas: Path | None,
    no_schema_check: bool,
    tree: bool,
    no_cache: bool,
    timings: bool,
    fmt: str,
) -> None:
    """Build the course in PATH (default: content/) into SCORM 1.2 and QTI 2.1 zips."""
    if no_schema_check and schemas is not None:
        raise click.UsageError("give either --schemas DIR or --no-schema-check, not both")
    started = time.perf_counter()
    times = StageTimes()
    try:
        # The output folder is checked before any work and held from here to the end.
        with refused_as_usage_error(), claimed_output(path, output):
            built, checked_against = build_held(
                path, output, target, schemas, no_schema_check, tree, no_cache, fmt, times
            )
    except OutputBusy as exc:  # worth trying again once the other build is over: exit 1
        click.echo(f"build stopped: {exc}", err=True)
        raise SystemExit(1) from None
    except (PackageError, CommitIncomplete, OSError) as exc:  # making, locking or restoring it
        click.echo(f"build failed: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        release_kept()  # the course model read from the cache (see collector_paused)
    for package in built:
        click.echo(wrote_line(package))
    for package in built:
        if package.removed_tree is not None:
            click.echo(
                f"removed {display_path(package.removed_tree)}/: an earlier build's unzipped "
                "tree, which would no longer match the zip (add --tree to write it anew)"
            )
    if checked_against is not None:
        click.echo(
            f"all documents valid against the official schemas ({schemas_name(checked_against)})"
        )
    if timings:
        click.echo(timings_line(times, time.perf_counter() - started), err=True)


def wrote_line(package: BuiltPackage) -> str:
    """What the build wrote for one package: the zip, and its tree when there is one."""
    size = package.zip_path.stat().st_size
    line = f"wrote {display_path(package.zip_path)} ({package.files} files, {size / 1024:.0f} KiB)"
    if package.tree_path is not None:
        line += f" and {display_path(package.tree_path)}/"
    return line


def timings_line(times: StageTimes, wall: float) -> str:
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.seconds.items())
    # Worker processes share the stages of a large course, so they can add up to more.
    return f"timings: {stages}; {wall:.2f} s in all (stages add up every process)"


def schemas_name(folder: Path) -> str:
    return "bundled schemas" if folder == BUNDLED_FOLDER else display_path(folder)


def build_held(
    path: Path,
    output: Path,
    target: str,
    schemas: Path | None,
    no_schema_check: bool,
    trees: bool,
    no_cache: bool,
    fmt: str,
    times: StageTimes,
) -> tuple[list[BuiltPackage], Path | None]:
    """Validate and build, holding the output folder; return the schema folder checked against,
    or None when the check was skipped."""
    folder = None if no_schema_check else schema_folder(schemas)
    plan = cache_plan(path, output, folder, not no_cache, times)
    try:
        course = validate_course(
            path,
            times,
            plan.validate_case if plan else None,
            plan.is_recorded if plan else None,
        )
    except ContentError as error:
        report_errors(error, fmt)
    except WorkerDied as exc:
        click.echo(f"validation failed: {exc}", err=True)
        raise SystemExit(1) from None
    schema_set = None
    if folder is None:
        click.echo("note: schema check skipped (--no-schema-check)", err=True)
    else:
        try:
            schema_set = SchemaSet(folder)
        except SchemaFolderError as exc:
            unusable_schema_folder(folder, exc)
    targets = TARGETS if target == "all" else (target,)
    try:
        built = build_course(
            course,
            output,
            targets,
            schema_set,
            times,
            output_claimed=True,
            trees=trees,
            cache=plan,
        )
    except CommitIncomplete as exc:
        click.echo(f"build failed: {exc}", err=True)
        raise SystemExit(1) from None
    except SchemaViolation as violation:
        for problem in violation.problems:
            click.echo(f"{problem} [schema]", err=True)
        click.echo(
            f"build failed: {len(violation.problems)} schema violation(s); nothing was written",
            err=True,
        )
        raise SystemExit(1) from None
    except SchemaFolderError as exc:  # a schema compiles only when first needed
        unusable_schema_folder(folder, exc)
    except (PackageError, WorkerDied, OSError) as exc:
        click.echo(f"build failed: {exc}; the previous packages are intact", err=True)
        raise SystemExit(1) from None
    finally:
        if plan is not None:
            plan.cache.discard()
    if plan is not None:
        cases = plan.cache.cases
        click.echo(f"cache: {plan.cache.reused:,} of {cases:,} cases reused", err=True)
    return built, folder


def cache_plan(
    path: Path, output: Path, folder: Path | None, reading: bool, times: StageTimes
) -> CachePlan | None:
    """The build cache of the output folder and the inputs of every case, or None (said
    once) when no key to authenticate it can be had."""
    with times.stage("cache"):
        cache = BuildCache.open(output, reading)
        if cache is None:
            click.echo(
                f"note: building without the cache: its key {display_path(key_path())} cannot "
                "be made or read (it must be a file of yours that only you can read)",
                err=True,
            )
            return None
        return CachePlan.make(cache, path, folder)


def unusable_schema_folder(folder: Path, exc: SchemaFolderError) -> NoReturn:
    if folder != BUNDLED_FOLDER:  # the user named it: a usage error (exit 2)
        raise click.BadParameter(str(exc), param_hint="--schemas") from None
    # The copy shipped with the package is damaged: the installation, not the command, is wrong.
    click.echo(
        f"build failed: the bundled schemas cannot be used ({exc}); reinstall qtiexport, "
        f"or give --schemas DIR, set {ENVIRONMENT_VARIABLE} or use --no-schema-check",
        err=True,
    )
    raise SystemExit(1)


@contextmanager
def refused_as_usage_error() -> Iterator[None]:
    """An output folder a build must not write into is a usage error (exit 2): the same
    command would fail again until the user chooses another folder or moves a thing away."""
    try:
        yield
    except OutputRefused as exc:
        raise click.BadParameter(f"{exc}.", param_hint="'-o' / '--output'") from None
