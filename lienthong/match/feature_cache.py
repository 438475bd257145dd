"""The comparison columns of a dataset's linked records, kept between match runs, and what a batch could match in it.

An incremental run compares its batch with the records that share a blocking key with it, never the whole registry,
so what it reads grows with the batch. The columns (:func:`lienthong.match.features.build_features`) of every
linked record are kept as Parquet parts in ``<cache_dir>/<dataset>-features/``: the first run writes one part, each
later run adds the part of its batch, and past ``MAX_PARTS`` parts they are rewritten as one. A record matched
again after a change is in the newer part; the keys a part replaces are written beside it (``replaced-<run>``), so
every read leaves the older rows out by a small anti-join. ``manifest.json`` says how many links the parts cover,
and the run whose links they include: a cache that does not cover the links (written by no run, a run crashed
between its commit and the cache, records erased) is rebuilt from the warehouse by the stage.

DuckDB reads the parts: the blocking keys of the batch select candidates in one scan (a few hundred rows of a
million in half a second), the rows of given keys are read by key, and the name frequencies the model weighs rare
names by are counted over every record.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lienthong.match import duck

MAX_PARTS = 24  # then the parts are rewritten as one (a run reads every part's blocking columns)
TF_COLUMNS = ("given", "family", "middle")  # the model's term-frequency columns (lienthong.match.model)
_MANIFEST = "manifest.json"


@dataclass
class FeatureCache:
    """The cache of one dataset's comparison columns."""

    folder: Path

    @classmethod
    def of(cls, cache_dir: Path, dataset: str) -> FeatureCache:
        return cls(cache_dir / f"{dataset}-features")

    def covers(self, links: int, last_run: int | None) -> bool:
        """Whether the parts hold exactly the linked records: as many links as now, up to the last run writing any."""
        manifest = self._manifest()
        return bool(self._parts()) and manifest.get("links") == links and manifest.get("run_id") == last_run

    def write(self, features: pa.Table, *, run_id: int, links: int, append: bool,
              replaces: pa.Array | None = None, piece: int = 0) -> None:
        """Add ``features`` as the part of ``run_id`` (or start over with it), then record what the parts cover.

        Args:
            features: comparison columns of the run's records.
            run_id: the match run; parts are read in run order, the newest holding a record wins.
            links: how many links the dataset has once this run's are written.
            append: add a part (an incremental run), else replace every part (a first run or a rebuild).
            replaces: keys of records already cached whose columns ``features`` replaces (matched again).
            piece: the number of this part among several of one run (a cache rebuilt a part at a time).
        """
        if not append:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.with_suffix(".parquet").unlink(missing_ok=True)  # the one-file cache of earlier versions
        self.folder.mkdir(parents=True, exist_ok=True)
        parts = self._parts()
        if parts:
            schema = pq.read_schema(parts[0])
            features = features.select(schema.names).cast(schema)
        pq.write_table(features, self.folder / (f"part-{run_id:09d}-{piece:05d}.parquet" if piece else
                                                f"part-{run_id:09d}.parquet"))
        if replaces is not None and len(replaces):
            pq.write_table(pa.table({"unique_id": replaces.cast(pa.string())}),
                           self.folder / f"replaced-{run_id:09d}.parquet")
        if len(self._parts()) > MAX_PARTS:
            self._compact()
        (self.folder / _MANIFEST).write_text(json.dumps({"links": links, "run_id": run_id}), encoding="utf-8")

    def candidates(self, batch: pa.Table, rules: list[str], *, keys: tuple[str, ...] = ()) -> pa.Array:
        """Record keys (``unique_id``) of the cached records that share a blocking key with ``batch``.

        Args:
            batch: comparison columns of the batch.
            rules: the model's blocking rules (Splink SQL over ``l`` and ``r``).
            keys: further columns a rule links records on (identity number, organisation member id).

        A superset of the records a rule pairs with the batch, in one scan of the parts: a rule of equalities
        (``l.a = r.b AND …``) is tested as "these columns of the record are those of a batch record", both ways
        round; a rule of any other shape makes every cached record a candidate. Splink then applies the rules
        themselves to the candidates.
        """
        tests: set[str] = set()
        for pairs in [_equalities(rule) for rule in rules] + [[(k, k)] for k in keys]:
            if pairs is None:
                tests.add("true")
                continue
            for mine, theirs in ([a for a, _ in pairs], [b for _, b in pairs]), ([b for _, b in pairs],
                                                                                  [a for a, _ in pairs]):
                if set(mine) | set(theirs) <= set(batch.column_names):
                    tests.add(f"({_tuple(mine)} IN (SELECT {_tuple(theirs)} FROM batch WHERE {_known(theirs)})"
                              f" AND {_known(mine)})")
        if not tests or not self._parts():
            return pa.array([], pa.string())
        con = self._connect()
        con.register("batch", batch)
        found = con.sql(f"SELECT DISTINCT unique_id FROM parts WHERE {' OR '.join(sorted(tests))}").to_arrow_table()
        return found.column("unique_id").combine_chunks().cast(pa.string())

    def rows(self, keys: pa.Array) -> pa.Table:
        """The cached columns of ``keys`` (those it has)."""
        con = self._connect()
        con.register("wanted", pa.table({"unique_id": keys.cast(pa.string())}))
        return con.sql("SELECT * FROM parts SEMI JOIN wanted USING (unique_id)").to_arrow_table()

    def name_counts(self, leave_out: pa.Array) -> dict[str, pa.Table]:
        """Per term-frequency column, each value and how many cached records (but ``leave_out``) have it."""
        con = self._connect()
        con.register("gone", pa.table({"unique_id": leave_out.cast(pa.string())}))
        columns = set(pq.read_schema(self._parts()[0]).names)
        return {column: con.sql(f"""SELECT {_q(column)}::VARCHAR AS value, count(*) AS n
                                    FROM parts ANTI JOIN gone USING (unique_id)
                                    WHERE {_q(column)} IS NOT NULL GROUP BY ALL""").to_arrow_table()
                .cast(pa.schema([("value", pa.string()), ("n", pa.int64())]))
                for column in TF_COLUMNS if column in columns}

    def view(self, con: duckdb.DuckDBPyConnection, name: str, *, leave_out: pa.Array) -> str:
        """Create in ``con`` the view ``name`` of every cached record once but ``leave_out``, read from the Parquet
        parts by each query that uses it: a registry of any size is scored against without being loaded."""
        self._views(con, f"{name}_")
        con.register(f"{name}_gone", pa.table({"unique_id": leave_out.cast(pa.string())}))
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_parts ANTI JOIN {name}_gone USING (unique_id)")
        return name

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the view ``parts``: every cached record once, from its newest part."""
        con = duck.connect()
        self._views(con)
        return con

    def _views(self, con: duckdb.DuckDBPyConnection, prefix: str = "") -> None:
        con.execute(f"CREATE VIEW {prefix}every_part AS SELECT * FROM read_parquet([{_files(self._parts())}], "
                    "filename = true)")
        replaced = sorted(self.folder.glob("replaced-*.parquet"))
        if not replaced:
            con.execute(f"CREATE VIEW {prefix}parts AS SELECT * EXCLUDE (filename) FROM {prefix}every_part")
            return
        files = _files(replaced)
        con.execute(f"""CREATE VIEW {prefix}parts AS SELECT p.* EXCLUDE (filename) FROM {prefix}every_part p
                        ANTI JOIN (SELECT unique_id, replace(filename, 'replaced-', 'part-') AS newer
                                   FROM read_parquet([{files}], filename = true)) r
                        ON p.unique_id = r.unique_id AND p.filename < r.newer""")

    def _parts(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []

    def _manifest(self) -> dict:
        try:
            return json.loads((self.folder / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _compact(self) -> None:
        parts = self._parts()
        last = parts[-1]
        # DuckDB writes the file as it reads the parts: a registry of any size is never held in memory whole
        self._connect().execute(f"COPY (SELECT * FROM parts) TO {_files([last.with_suffix('.new')])} (FORMAT parquet)")
        for p in [*parts, *self.folder.glob("replaced-*.parquet")]:
            p.unlink()
        last.with_suffix(".new").rename(last)


_EQUALITY = re.compile(r'\(?\s*l\."?(\w+)"?\s*=\s*r\."?(\w+)"?\s*\)?')


def _equalities(rule: str) -> list[tuple[str, str]] | None:
    """``l.a = r.b AND …`` as [(a, b), …]; None for a rule of another shape."""
    parts = re.split(r"\s+AND\s+", rule.strip(), flags=re.IGNORECASE)
    found = [_EQUALITY.fullmatch(p.strip()) for p in parts]
    return [(m.group(1), m.group(2)) for m in found] if all(found) else None


def _tuple(columns: list[str]) -> str:
    return f"({', '.join(_q(c) for c in columns)})" if len(columns) > 1 else _q(columns[0])


def _known(columns: list[str]) -> str:
    return " AND ".join(f"{_q(c)} IS NOT NULL" for c in columns)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _files(paths: list[Path]) -> str:
    """A DuckDB list of file names, quoted."""
    return ", ".join("'" + p.as_posix().replace("'", "''") + "'" for p in paths)
