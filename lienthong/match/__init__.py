"""Entity resolution: one person across feeds and organisations (docs/match.md, ADR 9).

The folder follows the data: ``config`` (roles → columns) → ``features`` (cleaned comparison columns) →
``model`` (Splink settings, training, scoring) and ``rules`` (deterministic links, vetoes) → ``cluster``
(strongest links first, constraints) → ``run`` (one job over a table) / ``incremental`` (a batch against a
registry) → ``stage`` (the warehouse stage: entities, ``golden`` records, ``review`` decisions) and ``report``.
``relief`` flags multi-organisation support; ``benchdata`` generates people with the truth to measure all this.
"""

# Datasets whose records are people to resolve into entities (their contracts carry the person match roles).
# Kept here, importing nothing, so that DAG files can read it without loading Splink.
MATCHED_DATASETS = ("members",)
