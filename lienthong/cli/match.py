"""`lienthong match FILE`, `lienthong review list|accept|reject`, `lienthong bench match`, `lienthong match-stage`.

``register(app)`` adds them to the main command (one line in ``lienthong.cli.app``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lienthong.cli import bench as bench_cmd
from lienthong.cli.console import console

review_app = typer.Typer(help="Pairs the matcher was unsure about: list them, accept or reject them.",
                         no_args_is_help=True)


def match(
    input_csv: Annotated[Path, typer.Argument(help="CSV file of person records (UTF-8, header row).")],
    config: Annotated[Path, typer.Option("--config", help="MAPPING.yml: role → column, locale, threshold.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write record_id,cluster_id.")],
    model: Annotated[Path | None, typer.Option(help="Saved model JSON: used if it exists, else written.")] = None,
    review_out: Annotated[Path | None, typer.Option(help="Also write the pairs to review (CSV).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report (match weights chart) here.")] = None,
) -> None:
    """Deduplicate one file on its own: one output row per input record, `record_id,cluster_id`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from lienthong.match.config import load_mapping
    from lienthong.match.run import match_records
    from lienthong.spreadsheet_safety import neutralise_table

    mapping = load_mapping(config)
    columns = pacsv.read_csv(input_csv, read_options=pacsv.ReadOptions(block_size=1 << 26)).column_names
    table = pacsv.read_csv(input_csv, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=True))
    saved = json.loads(model.read_text(encoding="utf-8")) if model and model.exists() else None
    result = match_records(table, mapping, model=saved)
    if model and saved is None:
        model.write_text(json.dumps(result.model.settings, indent=1), encoding="utf-8")
    pacsv.write_csv(neutralise_table(result.clusters), out)  # record ids come from the input: keep them inert
    if review_out:
        pacsv.write_csv(neutralise_table(result.review), review_out)
    n_clusters = len(set(result.clusters.column("cluster_id").to_pylist()))
    console.print(f"{table.num_rows:,} records → {n_clusters:,} clusters in {result.stats['seconds_total']:.1f} s; "
                  f"{result.stats['review_pairs']:,} pairs to review; written to {out}")
    for note in result.model.notes:
        console.print(f"[yellow]note[/]: {note}")
    if report:
        from lienthong.match.report import write_match_report

        written = write_match_report(report, result.model, result.stats, f"Match of {input_csv.name}", mapping.locale)
        console.print(f"report: {written}")


def match_stage(
    dataset: Annotated[str, typer.Argument(help="Dataset to resolve.")] = "members",
    retrain: Annotated[bool, typer.Option(help="Train a new model version first.")] = False,
) -> None:
    """Resolve the dataset's records published since the last run into entities (the match stage)."""
    from lienthong.hub import Hub
    from lienthong.match.stage import match_dataset

    hub = Hub.open()
    stats = match_dataset(hub.engine, dataset, retrain=retrain, report_dir=hub.settings.home / "reports",
                          cache_dir=hub.settings.home / "match", part_rows=hub.settings.match_part_rows)
    console.print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in stats.items()})


@review_app.command("list")
def review_list(dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
                status: Annotated[str, typer.Option(help="open, accepted or rejected.")] = "open") -> None:
    """Pairs waiting for a decision, with their probability."""
    from lienthong.hub import Hub
    from lienthong.warehouse.tables_match import review_items

    table = Table("id", "dataset", "record", "record", "probability", "status")
    for item in review_items(Hub.open().engine, dataset, status):
        table.add_row(str(item["id"]), item["dataset"], item["record_key_l"], item["record_key_r"],
                      f"{item['match_probability']:.3f}", item["status"])
    console.print(table)


@review_app.command("accept")
def review_accept(item_id: Annotated[int, typer.Argument(help="Review item id.")],
                  by: Annotated[str, typer.Option(help="Who decides.")] = "cli") -> None:
    """The two records are the same person: link them now and in every later run."""
    _decide(item_id, "accepted", by)


@review_app.command("reject")
def review_reject(item_id: Annotated[int, typer.Argument(help="Review item id.")],
                  by: Annotated[str, typer.Option(help="Who decides.")] = "cli") -> None:
    """The two records are different people: keep them apart now and in every later run."""
    _decide(item_id, "rejected", by)


def _decide(item_id: int, status: str, by: str) -> None:
    from lienthong.hub import Hub
    from lienthong.match.review import apply_decision

    outcome = apply_decision(Hub.open().engine, item_id, status, by)
    if outcome is None:
        console.print(f"[red]no review item {item_id}[/]")
        raise typer.Exit(2)
    console.print(outcome)


def bench_match(
    records: Annotated[int, typer.Option(help="Records of the generated benchmark.")] = 100_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = bench_cmd.BENCHMARKS,
    locale: Annotated[str, typer.Option(help="vi: Vietnamese members; generic: English-locale FEBRL-style people."
                                        )] = "vi",
) -> None:
    """Entity resolution on generated people: ours and plain Splink on the raw fields, side by side."""
    from lienthong.bench.match import run_bench

    if locale not in ("vi", "generic"):
        console.print(f"[red]--locale must be vi or generic, not {locale!r}[/]")
        raise typer.Exit(2)
    figures = run_bench(records=records, out=out, locale=locale)
    for mode, run in figures["runs"].items():
        console.print(f"{mode:12} P {run['precision']:.4f} R {run['recall']:.4f} F1 {run['f1']:.4f} "
                      f"{run['seconds']:.1f} s {run['peak_mib']:,.0f} MiB")
    console.print(f"written to {out}")


def bench_match_stage(
    records: Annotated[int, typer.Option(help="Published members before the incremental run.")] = 1_000_000,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = bench_cmd.BENCHMARKS,
) -> None:
    """The match stage in PostgreSQL: a first run over RECORDS published members, then 10,000 more."""
    from lienthong.bench.match_stage import run_stage_bench

    figures = run_stage_bench(records=records, out=out)
    console.print(f"first run {figures['full']['seconds']:.1f} s, incremental {figures['incremental']['seconds']:.1f}"
                  f" s, peak {figures['peak_mib']:,.0f} MiB; written to {out}")


@review_app.command("relief")
def review_relief() -> None:
    """Beneficiaries supported by more than one organisation in one campaign (same ID number): to check."""
    from lienthong.hub import Hub
    from lienthong.match.relief import relief_flags

    flags = relief_flags(Hub.open().engine)
    if not flags.num_rows:
        console.print("no beneficiary was supported by two organisations in one campaign")
        return
    table = Table("campaign", "beneficiary (record)", "organisations", "records", "VND", title=f"{flags.num_rows:,} "
                  "beneficiaries supported by several organisations in one campaign", title_justify="left")
    for row in flags.to_pylist():
        table.add_row(row["campaign"], row["beneficiary"], ", ".join(row["organisations"]),
                      str(len(row["record_ids"])), f"{row['amount_vnd'] or 0:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the match commands to the main command line."""
    app.command("match")(match)
    app.command("match-stage")(match_stage)
    app.add_typer(review_app, name="review")
    bench_cmd.app.command("match")(bench_match)
    bench_cmd.app.command("match-stage")(bench_match_stage)
