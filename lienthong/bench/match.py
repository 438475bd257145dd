"""`lienthong bench match`: entity resolution on generated people, ours beside plain Splink on the raw fields.

The data (:mod:`lienthong.demo.match_sample`: duplicates within and across organisations, relatives, twins,
namesakes) is written once as CSV; every measured run then starts in a fresh process that reads it, so wall time
and peak memory (``ru_maxrss``) belong to that run alone. Runs, in order:

1. ours, training the model (EM) and matching;
2. ours with the model saved by (1);
3. incremental: the last 10,000 records attached to the entities of the others (model saved);
4. plain Splink 5 on the raw, uncleaned columns (full name, date of birth as written, sex, ward, ID, phone,
   e-mail), its usual recipe: u by random sampling, EM on two blocking rules, predict, cluster at 0.99.

Pairwise precision/recall/F1 are against the truth. Figures go to the ``match`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lienthong.bench.report import with_size_block, write_section

BATCH = 10_000
SEED = 11


def _config():  # noqa: ANN202 - MatchConfig, imported late to keep the parent process light
    from lienthong.match.config import MatchConfig

    return MatchConfig(record_id="record_id", full_name="full_name", date_of_birth="date_of_birth", sex="sex",
                       ward="ward_code", id_number="id_number", phone="phone", email="email", locale="vi")


def _read(folder: Path) -> tuple[pa.Table, pa.Table]:
    names = ["record_id", "organisation", "member_id", "full_name", "sex", "date_of_birth", "id_number", "phone",
             "ward_code", "address", "email"]
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True)
    return pacsv.read_csv(folder / "records.csv", convert_options=options), pq.read_table(folder / "truth.parquet")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(mode: str, folder: Path) -> dict:
    """One measured run in this process (called by the parent through ``python -m lienthong.bench.match``)."""
    from lienthong.demo.match_sample import pairwise_scores

    if mode.startswith("generic-"):
        return _run_generic(mode.removeprefix("generic-"), folder)
    records, truth = _read(folder)
    model_path = folder / "model.json"
    start = time.perf_counter()
    out: dict = {"mode": mode}
    if mode in ("trained", "saved"):
        from lienthong.match.run import match_records

        model = json.loads(model_path.read_text()) if mode == "saved" else None
        result = match_records(records, _config(), model=model, count_comparisons=mode == "trained")
        out["seconds"] = time.perf_counter() - start - result.stats.get("seconds_counting", 0)
        if mode == "trained":
            model_path.write_text(json.dumps(result.model.settings))
            out["notes"] = result.model.notes
        out["stats"] = result.stats
        scores = pairwise_scores(result.clusters.column("record_id"), result.clusters.column("cluster_id"), truth)
    elif mode == "incremental":
        scores = _incremental(records, truth, json.loads(model_path.read_text()), out)
    else:
        scores = _plain_splink(records, truth, out)
        out["seconds"] = time.perf_counter() - start - out["stats"]["seconds_counting"]
    out.update(precision=scores.precision, recall=scores.recall, f1=scores.f1, true_pairs=scores.true_pairs,
               predicted_pairs=scores.predicted_pairs, peak_mib=_peak_mib())
    return out


def _incremental(records: pa.Table, truth: pa.Table, model: dict, out: dict):  # noqa: ANN202
    import pyarrow.compute as pc

    from lienthong.demo.match_sample import pairwise_scores
    from lienthong.match.features import build_features
    from lienthong.match.incremental import attach
    from lienthong.match.run import match_records

    n = records.num_rows
    base, batch = records.slice(0, n - BATCH), records.slice(n - BATCH)
    registry = match_records(base, _config(), model=model)
    features = build_features(base, _config())
    start = time.perf_counter()
    done = attach(features, registry.clusters.column("cluster_id"), build_features(batch, _config()), model,
                  _config())
    out["seconds"] = time.perf_counter() - start
    out["registry_records"] = base.num_rows
    out["registry_entities"] = pc.count_distinct(registry.clusters.column("cluster_id")).as_py()
    merged = dict(done.merges)
    ids = pa.concat_arrays([registry.clusters.column("record_id").combine_chunks(),
                            done.assignment.column("record_id").combine_chunks()])
    entity = [merged.get(e, e) for e in (*registry.clusters.column("cluster_id").to_pylist(),
                                         *done.assignment.column("entity_id").to_pylist())]
    return pairwise_scores(ids, pa.array(entity, pa.string()), truth)


def _plain_splink(records: pa.Table, truth: pa.Table, out: dict):  # noqa: ANN202

    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on


    raw = records.select(["record_id", "full_name", "date_of_birth", "sex", "ward_code", "id_number", "phone",
                          "email"])
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("full_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.ExactMatch("sex"), cl.ExactMatch("ward_code"), cl.ExactMatch("id_number"), cl.ExactMatch("phone"),
            cl.ExactMatch("email"),
        ],
        blocking_rules_to_generate_predictions=[block_on("full_name", "date_of_birth"), block_on("id_number"),
                                                block_on("phone"), block_on("email"),
                                                block_on("date_of_birth", "ward_code")],
        retain_matching_columns=False,
    )
    return _train_and_cluster(raw, settings, "id_number", (block_on("full_name"), block_on("date_of_birth")),
                              "record_id", truth, out)


def _generic_config():  # noqa: ANN202 - MatchConfig, imported late
    from lienthong.match.config import MatchConfig

    return MatchConfig(record_id="rec_id", given_name="given_name", family_name="surname",
                       address=["street_number", "address_1", "address_2"], locality="suburb", postcode="postcode",
                       region="state", date_of_birth="date_of_birth", date_format="%Y%m%d",
                       id_number="soc_sec_id", locale="generic")


def _plain_splink_generic(records: pa.Table, truth: pa.Table, out: dict):  # noqa: ANN202
    """Plain Splink 5 on FEBRL-style columns, as its documentation's FEBRL examples set it up: name comparisons
    with term frequencies, the date of birth comparison, Damerau-Levenshtein on the id, exact street number and
    postcode; trained like ours (λ from a deterministic rule, u by random sampling, EM on two blocking rules)."""

    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on


    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9]),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[block_on("given_name", "surname"), block_on("soc_sec_id"),
                                                block_on("date_of_birth"), block_on("surname", "postcode"),
                                                block_on("given_name", "postcode")],
        retain_matching_columns=False,
    )
    return _train_and_cluster(records, settings, "soc_sec_id",
                              (block_on("date_of_birth"), block_on("given_name", "surname")), "rec_id", truth, out)


def _train_and_cluster(records, settings, id_column: str, em_rules, record_column: str, truth, out: dict):  # noqa: ANN001
    """Plain Splink as its docs train it: λ from the id, u from random pairs, EM on ``em_rules``; clusters at 0.99,
    scored pairwise against ``truth``; the comparison count goes to ``out["stats"]``."""
    import logging

    from splink import DuckDBAPI, Linker

    from lienthong.demo.match_sample import pairwise_scores
    from lienthong.match.model import U_PAIRS

    linker = Linker(DuckDBAPI().register(records), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([f"l.{id_column} = r.{id_column}"], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=1)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=1.5e6)
    counting = time.perf_counter()
    counts = linker.blocking_analysis.count_comparisons_from_blocking_rules(record_sample_proportion=1.0)
    out["stats"] = {"comparisons": int(counts[-1]["cumulative_comparison_count"]),
                    "seconds_counting": time.perf_counter() - counting}
    predictions = linker.inference.predict(threshold_match_probability=0.5, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.99).as_pyarrow_table()
    return pairwise_scores(clusters.column(record_column), clusters.column("cluster_id").cast(pa.string()), truth)


def _run_generic(mode: str, folder: Path) -> dict:
    """A run on the FEBRL-style English-locale sample: ours (trained or saved model) or plain Splink."""
    from lienthong.bench.people_generic import COLUMNS
    from lienthong.demo.match_sample import pairwise_scores

    options = pacsv.ConvertOptions(column_types=dict.fromkeys(COLUMNS, pa.string()), strings_can_be_null=True)
    records = pacsv.read_csv(folder / "records.csv", convert_options=options)
    truth = pq.read_table(folder / "truth.parquet")
    model_path = folder / "model.json"
    start = time.perf_counter()
    out: dict = {"mode": mode}
    if mode == "plain":
        scores = _plain_splink_generic(records, truth, out)
        out["seconds"] = time.perf_counter() - start - out["stats"]["seconds_counting"]
    else:
        from lienthong.match.run import match_records

        model = json.loads(model_path.read_text()) if mode == "saved" else None
        result = match_records(records, _generic_config(), model=model, count_comparisons=mode == "trained")
        out["seconds"] = time.perf_counter() - start - result.stats.get("seconds_counting", 0)
        if mode == "trained":
            model_path.write_text(json.dumps(result.model.settings))
            out["notes"] = result.model.notes
        out["stats"] = result.stats
        scores = pairwise_scores(result.clusters.column("rec_id") if "rec_id" in result.clusters.column_names
                                 else result.clusters.column("record_id"), result.clusters.column("cluster_id"),
                                 truth)
    out.update(precision=scores.precision, recall=scores.recall, f1=scores.f1, true_pairs=scores.true_pairs,
               predicted_pairs=scores.predicted_pairs, peak_mib=_peak_mib())
    return out


def run_bench(*, records: int, out: Path, locale: str = "vi") -> dict:
    """Generate, run the measured runs in fresh processes, write the ``match`` (or ``match-generic``) section."""
    from lienthong.demo.match_sample import generate_match_sample

    if locale == "generic":
        return _run_bench_generic(records=records, out=out)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = generate_match_sample(records, seed=SEED)
        pacsv.write_csv(sample.records, folder / "records.csv")
        pq.write_table(sample.truth, folder / "truth.parquet")
        runs = {}
        for mode in ("trained", "saved", "incremental", "plain"):
            done = subprocess.run([sys.executable, "-m", "lienthong.bench.match", mode, str(folder)],
                                  check=True, capture_output=True, text=True)
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {"requested": records, "records": sample.records.num_rows, "people": int(pc.count_distinct(
        sample.truth.column("person_id")).as_py()), "runs": runs, "load": os.getloadavg()}
    write_section(out, "match", with_size_block(out, "match", _HEADING, records, _markdown(figures)))
    return figures


def _run_bench_generic(*, records: int, out: Path) -> dict:
    from lienthong.bench.people_generic import SEED as GENERIC_SEED
    from lienthong.bench.people_generic import generate_people_generic

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = generate_people_generic(records, seed=GENERIC_SEED)
        pacsv.write_csv(sample.records, folder / "records.csv")
        pq.write_table(sample.truth, folder / "truth.parquet")
        runs = {}
        for mode in ("trained", "saved", "plain"):
            done = subprocess.run([sys.executable, "-m", "lienthong.bench.match", f"generic-{mode}", str(folder)],
                                  check=True, capture_output=True, text=True)
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {"requested": records, "records": sample.records.num_rows,
               "people": int(pc.count_distinct(sample.truth.column("person_id")).as_py()), "runs": runs,
               "load": os.getloadavg()}
    write_section(out, "match-generic", _markdown_generic(figures))
    return figures


def _markdown_generic(f: dict) -> str:
    r = f["runs"]
    lines = [
        "## Entity resolution, any locale: `lienthong bench match --locale generic`",
        "",
        f"Reproduce with `lienthong bench match --locale generic --records {f['requested']}`; figures of the last "
        "run on this machine, written by the command itself.",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores; load "
        f"average at the end {f['load'][0]:.1f} (other jobs were running)",
        f"- data: {f['records']:,} English-locale records of {f['people']:,} people in the shape of the public "
        "FEBRL benchmark (`lienthong.bench.people_generic`, seeded; nothing downloaded): given name, surname, "
        "street number, two address lines, suburb, postcode, state, date of birth, social-security id; "
        "duplicates with typos, dropped values, given name and surname swapped, day and month swapped, moves",
        "- ours: `locale: generic` with the mapping given_name, family_name (surname), address [street_number, "
        "address_1, address_2], locality (suburb), postcode, region (state), date_of_birth, id_number",
        "- plain Splink 5: the comparisons of its FEBRL examples (name comparisons with term frequencies, the "
        "date of birth comparison, Damerau-Levenshtein on the id, street number, address line, suburb, "
        "postcode), five blocking rules, trained the same way (λ from the id, u from the same random pairs, EM "
        "on two blocking rules), clustered at 0.99",
        "",
        "| run | precision | recall | F1 | comparisons | seconds | peak memory (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, run in (("Liên Thông `locale: generic`, training included", r["trained"]),
                      ("Liên Thông `locale: generic`, saved model", r["saved"]),
                      ("plain Splink 5", r["plain"])):
        comparisons = run.get("stats", {}).get("comparisons")
        lines.append(f"| {name} | {run['precision']:.4f} | {run['recall']:.4f} | {run['f1']:.4f} | "
                     f"{f'{comparisons:,}' if comparisons else ''} | {run['seconds']:.1f} | "
                     f"{run['peak_mib']:,.0f} |")
    return "\n".join(lines)


_HEADING = "## Entity resolution: `lienthong bench match`"


def _markdown(f: dict) -> str:
    r = f["runs"]
    rows = [
        ("Liên Thông match, training included", r["trained"]),
        ("Liên Thông match, saved model", r["saved"]),
        (f"incremental: {BATCH:,} new records against {r['incremental'].get('registry_entities', 0):,} entities",
         r["incremental"]),
        ("plain Splink 5 on the raw fields", r["plain"]),
    ]
    lines = [
        f"### {f['records']:,} records",
        "",
        f"Reproduce with `lienthong bench match --records {f['requested']}`; figures of the "
        "last run on this machine, written by the command itself.",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average at the end {f['load'][0]:.1f} (other jobs were running)",
        f"- data: {f['records']:,} member records of {f['people']:,} people in 6 organisations "
        "(`lienthong.demo.match_sample`, seed 11): duplicates within and across organisations with typos, "
        "names without diacritics or reversed, year-only and swapped dates, old CMND numbers, moved wards; hard "
        "negatives: relatives sharing family name, address and phone, twins, namesakes in one ward; e-mails "
        "built from the names",
        "",
        "| run | precision | recall | F1 | comparisons | seconds | peak memory (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, run in rows:
        comparisons = run.get("stats", {}).get("comparisons")
        lines.append(f"| {name} | {run['precision']:.4f} | {run['recall']:.4f} | {run['f1']:.4f} | "
                     f"{comparisons:,} | {run['seconds']:.1f} | {run['peak_mib']:,.0f} |" if comparisons else
                     f"| {name} | {run['precision']:.4f} | {run['recall']:.4f} | {run['f1']:.4f} |  | "
                     f"{run['seconds']:.1f} | {run['peak_mib']:,.0f} |")
    trained = r["trained"].get("stats", {})
    lines += [
        "",
        "Precision/recall are pairwise (every pair of records of one cluster). Seconds are wall time of the "
        "matching in a fresh process (reading the CSV and counting the comparisons excluded): features, "
        "training when included, blocking and scoring, vetoes, clustering. The incremental row times only the "
        "attachment of the batch (its precision and recall are of the whole registry after it). Peak memory is "
        "the process's maximum resident set, the CSV and its truth included.",
        f"Liên Thông run, stage by stage: features {trained.get('seconds_features', 0):.1f} s, training "
        f"{trained.get('seconds_training', 0):.1f} s, scoring {trained.get('seconds_predict', 0):.1f} s, "
        f"clustering {trained.get('seconds_cluster', 0):.1f} s; {trained.get('links_by_rule', 0):,} links by "
        f"rule, {trained.get('links_by_model', 0):,} by the model, {trained.get('pairs_vetoed', 0):,} pairs "
        f"vetoed, {trained.get('review_pairs', 0):,} pairs for review.",
    ]
    for note in r["trained"].get("notes", []):
        lines.append(f"Model note: {note}.")
    lines += ["", "Targets (issue 5): F1 ≥ 0.97 with precision ≥ 0.99 and above plain Splink; 1,000,000 records "
              "≤ 120 s with training, ≤ 45 s with the saved model, within 4 GiB; 10,000 records against 1,000,000 "
              "entities ≤ 10 s."]
    return "\n".join(lines)


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)
    print(json.dumps(run_one(sys.argv[1], Path(sys.argv[2])), default=str))
