"""Open data and personal-data protection: the safe public subset of the hub, in the formats portals harvest.

``pseudonymise`` (keyed tokens for non-open consumers), ``aggregates`` (what each contract's privacy classes
allow), ``disclosure`` (small-cell and complementary suppression, and the checker proving it), ``guard`` (no direct
identifier reaches an open output), ``formats`` / ``dcat`` / ``charts`` (what portals harvest), ``build`` (the
stage), ``forget`` (erasure by ID number) and ``web`` (the CKAN-compatible read API).
"""
