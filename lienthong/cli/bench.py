"""`lienthong bench …`: benchmarks that write their figures to a section of docs/BENCHMARKS.md.

`lienthong bench` alone runs the hub benchmark (what `make bench` does); other rooms add subcommands to ``app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Benchmarks; figures go to docs/BENCHMARKS.md.", invoke_without_command=True)
BENCHMARKS = Path("docs/BENCHMARKS.md")


@app.callback()
def _default(
    ctx: typer.Context,
    rows: Annotated[int, typer.Option(help="Rows of the generated members feed.")] = 1_000_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """Without a subcommand: the hub benchmark (CSV → published PostgreSQL rows, and cleaning)."""
    if ctx.invoked_subcommand is None:
        hub(rows=rows, out=out)


@app.command()
def hub(
    rows: Annotated[int, typer.Option(help="Rows of the generated members feed.")] = 1_000_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """Benchmark CSV → published PostgreSQL rows on a generated members feed, beside library floors."""
    from lienthong.bench import run_bench

    run_bench(rows=rows, out=out)


@app.command("match-scale")
def match_scale(
    sizes: Annotated[str, typer.Option(help="Registry sizes, comma-separated.")] = "1000000,2000000,5000000",
    spark_max: Annotated[int, typer.Option(help="Largest size also run on Spark (0: none).")] = 100_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """Matching at growing sizes on DuckDB and on Spark (LIENTHONG_SPARK_MASTER or local): the capacity plan."""
    from lienthong.bench.match_scale import run_scale_bench

    run_scale_bench(sizes=[int(s) for s in sizes.split(",")], spark_max=spark_max, out=out)
    typer.echo(f"written to {out}")


@app.command()
def startup(
    runs: Annotated[int, typer.Option(help="Fresh interpreters per command (the median is reported).")] = 5,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """`lienthong check` of a 15-row file and `lienthong --help`: wall, CPU, and where the imports go."""
    from lienthong.bench.startup import run_startup_bench

    run_startup_bench(runs=runs, out=out)
    typer.echo(f"written to {out}")


@app.command()
def rules(
    rows: Annotated[int, typer.Option(help="Rows of generated members each rule runs on.")] = 1_000_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """Each cleaning rule, the CSV reader and the member generator alone on generated rows (rows/s)."""
    from lienthong.bench.rules import run_rules_bench

    run_rules_bench(rows=rows, out=out)


@app.command("file-parts")
def file_parts(
    sizes: Annotated[str, typer.Option(help="Rows of each generated file, comma-separated.")] = "1000000,2000000",
    part_rows: Annotated[int, typer.Option(help="Rows per part.")] = 200_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """Peak memory and time of sync + publish of one large file, read whole and in bounded parts."""
    from lienthong.bench.file_parts import run_parts_bench

    run_parts_bench(sizes=[int(s) for s in sizes.split(",")], part_rows=part_rows, out=out)
    typer.echo(f"written to {out}")


@app.command()
def blocking(
    sizes: Annotated[str, typer.Option(help="Members of `bench job`'s file, comma-separated.")] = "1000000,10000000",
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """Pairs the match model's blocking rules make, and true pairs they reach, as the registry grows: the rules
    now and before 2026-12-04."""
    from lienthong.bench.blocking import run_blocking_bench

    run_blocking_bench(sizes=[int(s) for s in sizes.split(",")], out=out)
    typer.echo(f"written to {out}")


@app.command()
def job(
    rows: Annotated[int, typer.Option(help="Rows of the generated members file.")] = 1_000_000,
    sizes: Annotated[str | None, typer.Option(help="Several sizes, comma-separated (e.g. 1000000,10000000); "
                                              "instead of --rows.")] = None,
    memory_limit_gib: Annotated[float, typer.Option(help="Stop a run whose process tree passes this memory.")] = 12.0,
    timeout: Annotated[float, typer.Option(help="Stop a run after this many seconds.")] = 3600.0,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
) -> None:
    """The full main job (`lienthong sync` of a members CSV into a fresh PostgreSQL: sync, publish, match, report,
    open data), saved model and first run, beside the floors (pyarrow + COPY, plain Splink) and the peer (dlt)."""
    from lienthong.bench.job import run_job_bench

    run_job_bench(sizes=[int(s) for s in sizes.split(",")] if sizes else [rows], out=out,
                  memory_limit_gib=memory_limit_gib, timeout=timeout)
