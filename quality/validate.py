"""Row-level validation: run a dataset's GX suite on a batch and turn the results into quarantine reasons.

What the caller passes — one column per non-derived contract field (derived fields may be present; they are
not checked), extra columns are ignored, and a 0..n-1 ``RangeIndex`` that is the row position in the batch:

- TEXT, NAME, ID_NUMBER, PHONE, CODE: pandas ``str`` (the pandas 3 default string dtype, fastest); ``object``
  holding ``str``/``None``, ``string[pyarrow]``, ``ArrowDtype(pa.string())`` or ``category`` also work.
- DATE: ``datetime64`` of any unit (midnight), ``ArrowDtype(pa.date32())``, or ``object`` holding ``date``.
- DATETIME: ``datetime64`` of any unit, naive Vietnam local time or tz-aware (converted to Vietnam time);
  ``ArrowDtype`` timestamps also work.
- INTEGER, MONEY: ``Int64`` (nullable), ``int64`` or ``float64``.
- BOOLEAN: ``boolean`` or ``bool`` (no rule checks booleans yet).

Missing values are ``None``/``NaN``/``NaT``/``pd.NA``. Values that could not be parsed into the kind at all
are the cleaning stage's business (it files its own reasons and passes a missing value here).

GX gets a *prepared copy* of the frame: dates as ``datetime64[ns]`` (GX compares only that unit vectorised;
values outside the ns range, before 1678 or after 2261, are clipped to its edges, which still fail every date
rule), integers as ``float64`` (GX's vectorised path; exact up to 2**53), code columns as ``category`` and
other strings as ``str``. Values shown in reasons are always read from the caller's frame, not from the copy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine

from catalog.model import CodeList
from quality.messages import RuleText, display
from quality.reasons import Reason, mask_value
from quality.suites import VIETNAM, build_suite, code_parameters, suite_parameters
from schemas.base import Contract, FieldKind, FieldSpec

# COMPLETE is the only GX result format that returns *every* failing row's index. Values are read from the
# frame ourselves, so GX need not collect them (it caps them at 200 anyway), nor build the pandas "index
# query" string (a Python list literal of every failing index).
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
}

_NS_FIRST, _NS_LAST = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
_STRING_KINDS = {FieldKind.TEXT, FieldKind.NAME, FieldKind.ID_NUMBER, FieldKind.PHONE, FieldKind.CODE}
_CACHE_SIZE = 16


class SuiteRunError(RuntimeError):
    """An expectation could not be computed (not: rows failed it), e.g. a column of the wrong dtype."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one expectation of the suite went on a batch.

    Attributes:
        expectation_type: GX type, e.g. ``expect_column_values_to_be_in_set``.
        columns: contract fields the expectation reads; the first is the one reasons are filed under.
        rule: stable rule id, as in :attr:`Reason.rule`.
        success: no row failed.
        element_count: rows the expectation looked at (after its row condition, if any).
        unexpected_count: rows that failed it.
        description_vi: what it checks, in Vietnamese.
        description_en: what it checks, in English.
    """

    expectation_type: str
    columns: tuple[str, ...]
    rule: str
    success: bool
    element_count: int
    unexpected_count: int
    description_vi: str
    description_en: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, e.g. for the warehouse's ``batch.outcomes``."""
        data = asdict(self)
        data["columns"] = list(self.columns)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpectationOutcome:
        return cls(**{**data, "columns": tuple(data["columns"])})


@dataclass
class ValidationResult:
    """Every reason of every failing row, and the outcome of every expectation.

    Attributes:
        reasons: row position -> the reasons it failed, one per failed expectation, in suite order; rows that
            passed everything are absent.
        outcomes: one per expectation, in suite order.
        rows: rows validated.
    """

    reasons: dict[int, list[Reason]]
    outcomes: list[ExpectationOutcome]
    rows: int = 0

    @property
    def quarantined_rows(self) -> list[int]:
        """Positions of the rows that failed at least one rule, ascending."""
        return list(self.reasons)

    def valid_mask(self) -> np.ndarray:
        """Boolean array, True for the rows that passed every rule (to select the valid rows of the frame)."""
        mask = np.ones(self.rows, dtype=bool)
        mask[np.fromiter(self.reasons, dtype=np.int64, count=len(self.reasons))] = False
        return mask


def validate_frame(
    frame: pd.DataFrame,
    contract: type[Contract],
    code_lists: Mapping[str, CodeList],
    *,
    now: datetime | None = None,
) -> ValidationResult:
    """Validate a batch against the dataset's GX suite.

    Args:
        frame: one column per contract field with the dtypes of the module docstring; 0..n-1 ``RangeIndex``.
        contract: the dataset contract.
        code_lists: shared code lists by name (see :func:`quality.suites.build_suite`).
        now: validate as of this moment (dates may not be after it); default the clock.

    Returns:
        The reasons of every failing row (values masked by privacy class) and every expectation's outcome.

    Raises:
        ValueError: the frame lacks a contract column or does not have a 0..n-1 ``RangeIndex``.
        SuiteRunError: GX could not compute an expectation.
    """
    runner = _runner(contract, code_lists)
    prepared = prepare_frame(frame, contract)
    result = runner.run(prepared, {**suite_parameters(now), **code_parameters(contract, code_lists, prepared)})
    return _collect(result, frame, contract, runner.order)


def prepare_frame(frame: pd.DataFrame, contract: type[Contract]) -> pd.DataFrame:
    """The copy of ``frame`` GX runs on: the checked contract columns, in dtypes GX computes vectorised."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        msg = (
            "the frame must have a 0..n-1 RangeIndex (the row position in the batch); "
            "use reset_index(drop=True)"
        )
        raise ValueError(msg)
    fields = [f for f in contract.fields() if not f.derived]
    missing = [f.name for f in fields if f.name not in frame.columns]
    if missing:
        msg = f"the {contract.dataset} frame lacks contract column(s) {', '.join(missing)}"
        raise ValueError(msg)
    return pd.DataFrame({f.name: _gx_column(frame[f.name], f) for f in fields}, index=frame.index)


def _gx_column(column: pd.Series, spec: FieldSpec) -> pd.Series:
    kind = spec.kind
    if kind in (FieldKind.DATE, FieldKind.DATETIME):
        return _datetime_ns(column)
    if kind in (FieldKind.INTEGER, FieldKind.MONEY):
        if column.dtype == "float64":
            return column
        if column.dtype == object:
            column = pd.to_numeric(column)
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=column.index, name=column.name)
    if kind is FieldKind.CODE:
        # GX filters the whole frame by each column's non-null mask, once or more per expectation; a
        # categorical column is filtered by taking small integer codes instead of copying strings (the GX run
        # on a million members drops from 2.0 s to 1.3 s). isin() gives the same answer on it.
        return column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    if kind in _STRING_KINDS and column.dtype != "str":
        return column.astype("str")
    return column


def _datetime_ns(column: pd.Series) -> pd.Series:
    """``column`` as naive Vietnam-time ``datetime64[ns]``, the one datetime dtype GX compares vectorised."""
    if isinstance(column.dtype, pd.ArrowDtype):
        # pandas converts Arrow temporal columns element by element (~1 s per million); Arrow casts in C++.
        arrow = pa.array(column)
        if pa.types.is_date(arrow.type):
            arrow = arrow.cast(pa.timestamp("s"))
        column = pd.Series(arrow.to_pandas(), index=column.index, name=column.name)
    elif not pd.api.types.is_datetime64_any_dtype(column.dtype):
        column = pd.to_datetime(column)
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert(VIETNAM).dt.tz_localize(None)
    if column.dtype != "datetime64[ns]":
        column = column.clip(_NS_FIRST, _NS_LAST).astype("datetime64[ns]")
    return column


class _SuiteRunner:
    """A built suite with its own ephemeral GX context and dataframe batch definition, reused by batches."""

    def __init__(self, contract: type[Contract], code_lists: Mapping[str, CodeList]) -> None:
        self.suite = build_suite(contract, code_lists)
        # GX reports results grouped by domain, not in suite order; reasons and outcomes follow the suite.
        texts = [RuleText.from_meta(e.meta) for e in self.suite.expectations]
        self.order = {(t.rule, t.columns): i for i, t in enumerate(texts)}
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self.context.data_sources.add_pandas(f"lienthong_{contract.dataset}").add_dataframe_asset(
            contract.dataset
        )
        self.batch_definition = asset.add_batch_definition_whole_dataframe("batch")

    def run(self, frame: pd.DataFrame, parameters: Mapping[str, Any]) -> ExpectationSuiteValidationResult:
        # GX loads the batch twice, for get_batch and again inside validate: both loads would fingerprint it.
        with _gx_lock, _without_batch_fingerprint():
            batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            return batch.validate(
                self.suite, result_format=RESULT_FORMAT, expectation_parameters=dict(parameters)
            )


# One GX validation at a time in a process: a context holds its active batch, and the fingerprint switch below
# is process-wide. Validation is CPU-bound under the GIL anyway.
_gx_lock = threading.Lock()


@contextmanager
def _without_batch_fingerprint() -> Iterator[None]:
    """Skip GX's batch fingerprint while a batch is loaded.

    GX stores an md5 of ``pandas.util.hash_pandas_object`` of every cell of an in-memory DataFrame under 1 GB
    in the batch markers. That hash is half of the whole validation time (about 2 s of 4 per million member
    rows), and the hub never reads it: batches are identified by the warehouse's batch id. GX skips it for
    frames above ``HASH_THRESHOLD`` bytes; lowering the threshold to 0 for the load is its only switch.
    """
    saved = pandas_execution_engine.HASH_THRESHOLD
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = saved


_runners: dict[tuple[Any, ...], _SuiteRunner] = {}
_runners_lock = threading.Lock()


def _runner(contract: type[Contract], code_lists: Mapping[str, CodeList]) -> _SuiteRunner:
    # A code list's version names its content; the hash of its codes guards against a list edited in place.
    key = (contract, tuple(sorted((n, cl.version, hash(cl.codes)) for n, cl in code_lists.items())))
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            runner = _SuiteRunner(contract, code_lists)
            if len(_runners) >= _CACHE_SIZE:
                _runners.pop(next(iter(_runners)))
            _runners[key] = runner
        return runner


def _collect(
    result: ExpectationSuiteValidationResult,
    frame: pd.DataFrame,
    contract: type[Contract],
    order: Mapping[tuple[str, tuple[str, ...]], int],
) -> ValidationResult:
    specs = {f.name: f for f in contract.fields()}
    reasons: dict[int, list[Reason]] = {}
    outcomes: list[ExpectationOutcome] = []
    texts = [(RuleText.from_meta(r.expectation_config.meta), r) for r in result.results]
    texts.sort(key=lambda item: order.get((item[0].rule, item[0].columns), len(order)))
    for text, r in texts:
        config = r.expectation_config
        if r.exception_info and r.exception_info.get("raised_exception"):
            msg = f"{contract.dataset}: {config.type} on {', '.join(text.columns)} failed to run: " + str(
                r.exception_info.get("exception_message")
            )
            raise SuiteRunError(msg)
        res = r.result or {}
        failing = res.get("unexpected_index_list") or []
        outcomes.append(
            ExpectationOutcome(
                expectation_type=config.type,
                columns=text.columns,
                rule=text.rule,
                success=bool(r.success),
                element_count=int(res.get("element_count") or 0),
                unexpected_count=int(res.get("unexpected_count") or 0),
                description_vi=text.description_vi,
                description_en=text.description_en,
            )
        )
        if failing:
            _add_reasons(reasons, text, np.asarray(failing, dtype=np.int64), frame, specs)
    ordered = {row: reasons[row] for row in sorted(reasons)}
    return ValidationResult(reasons=ordered, outcomes=outcomes, rows=len(frame))


def _add_reasons(
    reasons: dict[int, list[Reason]],
    text: RuleText,
    positions: np.ndarray,
    frame: pd.DataFrame,
    specs: Mapping[str, FieldSpec],
) -> None:
    columns = [frame[c].take(positions).tolist() for c in text.columns]
    # Bad values repeat (the same typo in a code, the same placeholder ID), so each distinct combination of
    # values is masked and rendered once.
    rendered: dict[tuple[Any, ...], Reason] = {}
    for pos, raw in zip(positions.tolist(), zip(*columns, strict=True), strict=True):
        reason = rendered.get(raw)
        if reason is None:
            reason = rendered[raw] = _reason(text, [_python_value(v) for v in raw], specs)
        reasons.setdefault(pos, []).append(reason)


def _reason(text: RuleText, raw: list[Any], specs: Mapping[str, FieldSpec]) -> Reason:
    """The reason for one failing row, given the raw values of the rule's columns."""
    context_vi: dict[str, str] = {}
    context_en: dict[str, str] = {}
    for column, value in zip(text.columns, raw, strict=True):
        spec = specs[column]
        plain = mask_value(_plain(value, spec.kind), spec.privacy)
        context_en[column] = plain if plain is not None else "(empty)"
        shown = mask_value(display(value, spec.kind), spec.privacy) if value is not None else None
        context_vi[column] = shown if shown is not None else "(trống)"
    primary = text.columns[0]
    length = str(len(str(raw[0]))) if raw[0] is not None else "0"
    context_vi.update(value=context_vi[primary], length=length)
    context_en.update(value=context_en[primary], length=length)
    message_vi, message_en = text.render(context_vi, context_en)
    stored = None if raw[0] is None else context_en[primary]
    return Reason(text.rule, primary, stored, message_vi, message_en)


def _python_value(value: object) -> object:
    """A value from the caller's frame, ready to show: missing as None, aware datetimes in Vietnam time."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(VIETNAM).replace(tzinfo=None)
    return value


def _plain(value: object, kind: FieldKind) -> str | None:
    """A value as stored in a reason: ISO dates, whole numbers without ``.0``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if kind is FieldKind.DATE:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

