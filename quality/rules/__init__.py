"""Hand-written rules of each dataset: what a contract alone cannot say.

That is rules across fields (joined after born, resolved after received) and plausibility limits.

Each module exports ``expectations(code_lists) -> list[Expectation]``; every expectation carries its
:class:`~quality.messages.RuleText` in ``meta``, like the generated ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from great_expectations.expectations.expectation import Expectation

from catalog.model import CodeList
from quality.rules import feedback, members, relief

RuleSet = Callable[[Mapping[str, CodeList]], list[Expectation]]

RULES: dict[str, RuleSet] = {
    "members": members.expectations,
    "feedback": feedback.expectations,
    "relief": relief.expectations,
}


def extra_expectations(dataset: str, code_lists: Mapping[str, CodeList]) -> list[Expectation]:
    """The hand-written expectations of ``dataset``; none for a dataset without a rules module."""
    rules = RULES.get(dataset)
    return rules(code_lists) if rules else []
