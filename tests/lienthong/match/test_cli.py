"""`lienthong match FILE --config MAPPING.yml --out CLUSTERS.csv` on a non-Vietnamese file, and its errors."""

from __future__ import annotations

import csv
import random

from typer.testing import CliRunner

from lienthong.cli.app import app

FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
         "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin"]


def _people_csv(path, n=1500, seed=3):
    """English-style people, a third of them written twice with small changes; returns record -> person."""
    rng = random.Random(seed)
    rows, truth = [], {}
    for p in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        born = f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        zipcode = f"AB{rng.randint(1, 60)} {rng.randint(1, 9)}CD"
        phone = f"07{rng.randint(10**8, 10**9 - 1)}"
        copies = 2 if rng.random() < 0.33 else 1
        for c in range(copies):
            rid = f"r{len(rows):05d}"
            name = f"{first} {last}" if c == 0 else rng.choice([f"{first.upper()} {last}", f"{first} {last}",
                                                                  f"{first[:-1]}{first[-1]}e {last}"])
            rows.append({"id": rid, "name": name, "born": born, "zip": zipcode if c == 0 else zipcode.lower(),
                         "tel": phone if rng.random() < 0.8 else ""})
            truth[rid] = p
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "name", "born", "zip", "tel"])
        writer.writeheader()
        writer.writerows(rows)
    return truth


def test_match_command_clusters_a_generic_file(tmp_path):
    truth = _people_csv(tmp_path / "people.csv")
    (tmp_path / "mapping.yml").write_text(
        "record_id: id\nfull_name: name\ndate_of_birth: born\ndate_format: '%Y%m%d'\npostcode: zip\n"
        "phone: tel\nlocale: generic\n", encoding="utf-8")
    out = tmp_path / "clusters.csv"
    result = CliRunner().invoke(app, ["match", str(tmp_path / "people.csv"), "--config",
                                      str(tmp_path / "mapping.yml"), "--out", str(out),
                                      "--model", str(tmp_path / "model.json")])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["record_id"] for r in rows] == list(truth)  # one row per input record, in order
    cluster = {r["record_id"]: r["cluster_id"] for r in rows}
    pairs = [(a, b) for a in truth for b in truth if a < b and cluster[a] == cluster[b]]
    correct = sum(truth[a] == truth[b] for a, b in pairs)
    true_pairs = sum(1 for a in truth for b in truth if a < b and truth[a] == truth[b])
    assert correct / len(pairs) >= 0.98
    assert correct / true_pairs >= 0.9
    assert (tmp_path / "model.json").exists()
    again = CliRunner().invoke(app, ["match", str(tmp_path / "people.csv"), "--config",
                                     str(tmp_path / "mapping.yml"), "--out", str(tmp_path / "again.csv"),
                                     "--model", str(tmp_path / "model.json")])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again.csv").read_text() == out.read_text()  # the saved model gives the same clusters


def test_match_command_refuses_an_unknown_role(tmp_path):
    _people_csv(tmp_path / "people.csv", n=20)
    (tmp_path / "mapping.yml").write_text("record_id: id\nfull_name: name\nsurname: name\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["match", str(tmp_path / "people.csv"), "--config",
                                      str(tmp_path / "mapping.yml"), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code != 0


def test_match_output_cannot_run_as_a_formula(tmp_path):
    """Record ids come from the input file: one written as a formula is written back inert (OWASP CSV injection)."""
    _people_csv(tmp_path / "people.csv")
    text = (tmp_path / "people.csv").read_text(encoding="utf-8").splitlines()
    text[1] = '"=HYPERLINK(""http://evil.example"")"' + text[1][text[1].index(","):]
    (tmp_path / "people.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (tmp_path / "mapping.yml").write_text(
        "record_id: id\nfull_name: name\ndate_of_birth: born\ndate_format: '%Y%m%d'\npostcode: zip\n"
        "phone: tel\nlocale: generic\n", encoding="utf-8")
    out = tmp_path / "clusters.csv"
    result = CliRunner().invoke(app, ["match", str(tmp_path / "people.csv"), "--config",
                                      str(tmp_path / "mapping.yml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        ids = [r["record_id"] for r in csv.DictReader(f)]
    assert "'=HYPERLINK(\"http://evil.example\")" in ids
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)


def test_match_command_on_febrl_style_data_with_empty_cells(tmp_path):
    """English-locale people in the shape of the public FEBRL benchmark, with empty cells in every column and a
    multi-column address: no crash, one output row per input row, and duplicates found."""
    import pyarrow.csv as pacsv

    from lienthong.bench.people_generic import generate_people_generic
    from lienthong.demo.match_sample import pairwise_scores

    sample = generate_people_generic(2500, seed=3)
    pacsv.write_csv(sample.records, tmp_path / "people.csv")
    (tmp_path / "mapping.yml").write_text(
        "record_id: rec_id\ngiven_name: given_name\nfamily_name: surname\n"
        "address: [street_number, address_1, address_2]\nlocality: suburb\npostcode: postcode\nregion: state\n"
        "date_of_birth: date_of_birth\ndate_format: '%Y%m%d'\nid_number: soc_sec_id\nlocale: generic\n",
        encoding="utf-8")
    out = tmp_path / "clusters.csv"
    result = CliRunner().invoke(app, ["match", str(tmp_path / "people.csv"), "--config",
                                      str(tmp_path / "mapping.yml"), "--out", str(out),
                                      "--report", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    clusters = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    assert clusters.column("record_id").to_pylist() == sample.records.column("rec_id").to_pylist()
    scores = pairwise_scores(clusters.column("record_id"), clusters.column("cluster_id"), sample.truth)
    assert scores.precision >= 0.99 and scores.recall >= 0.95  # 1.0000 / 0.9777 at 5,000 (docs/BENCHMARKS.md)
    assert "swapped with the family name" in (tmp_path / "report.html").read_text(encoding="utf-8")
