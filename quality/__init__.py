"""Validation: Great Expectations suites built from the contracts, and row-level quarantine reasons."""
