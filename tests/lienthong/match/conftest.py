"""Small generated samples with their truth, shared by the match tests (a few thousand records, seconds)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine

from lienthong.demo.match_sample import MatchSample, generate_match_sample
from lienthong.match.config import MatchConfig
from lienthong.match.run import MatchResult, match_records
from lienthong.warehouse.migrate import upgrade

logging.getLogger("splink").setLevel(logging.ERROR)

VI = MatchConfig(record_id="record_id", full_name="full_name", date_of_birth="date_of_birth", sex="sex",
                 ward="ward_code", id_number="id_number", phone="phone", email="email", locale="vi")


@pytest.fixture(scope="session")
def sample() -> MatchSample:
    return generate_match_sample(3000, seed=1)


@pytest.fixture(scope="session")
def matched(sample: MatchSample) -> MatchResult:
    return match_records(sample.records, VI)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request, tmp_path):
    """A migrated warehouse: SQLite in the test's folder, and a fresh PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = create_engine(url)
    upgrade(engine)
    return engine
