"""One matching job over a table: features → deterministic links + model scores → vetoes → clusters.

Used by ``lienthong match FILE`` (a file on its own), by the benchmark and, with the warehouse around it, by the
match stage (:mod:`lienthong.match.stage`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.match import model as M
from lienthong.match.cluster import cluster
from lienthong.match.config import MatchConfig
from lienthong.match.features import build_features
from lienthong.match.rules import apply_vetoes, deterministic_links


@dataclass
class MatchResult:
    """Clusters (``record_id``, ``cluster_id``), the links taken, the pairs to review, the model, the comparison
    columns and figures."""

    clusters: pa.Table
    links: pa.Table
    review: pa.Table
    model: M.TrainedModel
    features: pa.Table
    stats: dict[str, Any] = field(default_factory=dict)


def match_records(table: pa.Table, config: MatchConfig, *, model: M.TrainedModel | dict | None = None,
                  cannot_link: Iterable[tuple[str, str]] = (), must_link: Iterable[tuple[str, str]] = (),
                  extra: dict[str, pa.Array] | None = None, count_comparisons: bool = False,
                  features: pa.Table | None = None) -> MatchResult:
    """Match the records of ``table`` among themselves.

    Args:
        table: the input, one row per record.
        config: roles, locale, thresholds, backend.
        model: a saved model to score with; trained on ``table`` when ``None``.
        cannot_link / must_link: reviewers' decisions (pairs of record ids) to respect.
        extra: further feature columns (``org_member`` for the same-member-id rule).
        count_comparisons: also count the pairs the blocking rules generate (costs one more blocking pass).
        features: the comparison columns of ``table`` when the caller already built them (to train on).
    """
    stats: dict[str, Any] = {"records": table.num_rows}
    t0 = time.perf_counter()
    features = build_features(table, config) if features is None else features
    for name, values in (extra or {}).items():
        features = features.append_column(name, values)
    stats["seconds_features"] = time.perf_counter() - t0
    t = time.perf_counter()
    if model is None:
        trained, linker = M.train(features, config)
        stats["seconds_training"] = time.perf_counter() - t
    else:
        trained = model if isinstance(model, M.TrainedModel) else M.TrainedModel(model, [], 0)
        linker = M.linker_for(trained, features, config.backend)
    t = time.perf_counter()
    if count_comparisons:
        counts = linker.blocking_analysis.count_comparisons_from_blocking_rules(record_sample_proportion=1.0)
        stats["comparisons"] = int(counts[-1]["cumulative_comparison_count"]) if counts else 0
        stats["seconds_counting"] = time.perf_counter() - t
        t = time.perf_counter()
    scored = M.predict(linker, config.thresholds.review)
    stats["seconds_predict"] = time.perf_counter() - t
    t = time.perf_counter()
    result = decide(features, scored, deterministic_links(features), config, cannot_link=cannot_link,
                    must_link=must_link)
    stats.update(result.pop("stats"))
    stats["seconds_cluster"] = time.perf_counter() - t
    stats["seconds_total"] = time.perf_counter() - t0
    return MatchResult(model=trained, features=features, stats=stats, **result)


def decide(features: pa.Table, scored: pa.Table, rule_links: pa.Table, config: MatchConfig, *,
           cannot_link: Iterable[tuple[str, str]] = (), must_link: Iterable[tuple[str, str]] = (),
           groups: pa.Array | None = None) -> dict[str, Any]:
    """Vetoes, thresholds and clustering over scored pairs: links, review pairs and clusters."""
    kept, vetoed = apply_vetoes(scored, features, locale=config.locale)
    prob = kept.column("match_probability")
    strong = kept.filter(pc.greater_equal(prob, config.thresholds.link))
    review = kept.filter(pc.less(prob, config.thresholds.link))
    strong = strong.append_column("rule", pa.nulls(strong.num_rows, pa.string()))
    forced = _pairs_table(must_link, "review_accepted")
    links = pa.concat_tables([rule_links.cast(strong.schema), strong, forced.cast(strong.schema)])
    decided = {tuple(sorted(p)) for p in (*cannot_link, *must_link)}
    if decided:
        keys = [tuple(sorted(p)) not in decided for p in zip(review.column("unique_id_l").to_pylist(),
                                                              review.column("unique_id_r").to_pylist(),
                                                              strict=True)]
        review = review.filter(pa.array(keys, pa.bool_()))
    ids = features.column("unique_id")
    cccd = pc.if_else(pc.equal(features.column("id_kind"), "cccd"), features.column("id_number"),
                      pa.scalar(None, pa.string()))
    clusters = cluster(ids, links, cccd=cccd, groups=groups, cannot_link=cannot_link)
    return {
        "clusters": pa.table({"record_id": ids, "cluster_id": clusters}),
        "links": links,
        "review": review,
        "stats": {"pairs_scored_above_review": scored.num_rows, "pairs_vetoed": vetoed,
                  "links_by_rule": rule_links.num_rows, "links_by_model": strong.num_rows,
                  "review_pairs": review.num_rows},
    }


def _pairs_table(pairs: Iterable[tuple[str, str]], rule: str) -> pa.Table:
    rows = [tuple(sorted(p)) for p in pairs]
    return pa.table({
        "unique_id_l": pa.array([a for a, _ in rows], pa.string()),
        "unique_id_r": pa.array([b for _, b in rows], pa.string()),
        "match_probability": pa.array([1.0] * len(rows), pa.float64()),
        "match_weight": pa.array([64.0] * len(rows), pa.float64()),
        "rule": pa.array([rule] * len(rows), pa.string()),
    })
