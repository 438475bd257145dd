"""Train the match model shipped for small registries (lienthong/match/data/members_default_model.json).

A registry under 2,000 records is matched with this model until it can train its own (lienthong.match.stage).
It is trained on the generated benchmark people (lienthong.demo.match_sample: typos, swapped dates, moves,
CMND/CCCD), with the roles of the ``members`` contract (no e-mail): only m/u probabilities, no personal data.

    PYTHONPATH=. python scripts/train_default_match_model.py [RECORDS]
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from lienthong.demo.match_sample import generate_match_sample
from lienthong.match.config import MatchConfig
from lienthong.match.features import build_features
from lienthong.match.model import match_weights, train

OUT = Path(__file__).resolve().parent.parent / "lienthong" / "match" / "data" / "members_default_model.json"


def main(records: int = 50_000) -> None:
    logging.disable(logging.WARNING)
    sample = generate_match_sample(records, seed=11)
    config = MatchConfig(record_id="record_id", full_name="full_name", date_of_birth="date_of_birth", sex="sex",
                         ward="ward_code", id_number="id_number", phone="phone", locale="vi")
    model, _ = train(build_features(sample.records, config), config)
    OUT.write_text(json.dumps(model.settings, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for w in match_weights(model):
        print(f"{w['comparison']:14} {w['level']!s:45.45} m={w['m'] or 0:.4f} u={w['u'] or 0:.6f}")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
