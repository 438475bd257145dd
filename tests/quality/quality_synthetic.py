"""Generated test data for the quality suites: code lists shaped like the real ones and member batches.

Everything is generated, nothing is a fixture dump: small readable code lists, and a vectorised member
generator that plants a known share of bad rows so a benchmark can check that every planted row is caught.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from catalog.model import CodeList, CodeValue


def code_list(name: str, codes: list[str] | dict[str, str], *, version: str = "test-1") -> CodeList:
    """A CodeList built directly from ``catalog.model``; ``codes`` is a list of codes or {code: label_vi}."""
    labels = codes if isinstance(codes, dict) else {c: c for c in codes}
    return CodeList(
        name=name,
        version=version,
        title_vi=f"Danh mục {name}",
        title_en=name,
        valid_from=date(2025, 7, 1),
        basis="generated for tests",
        values=tuple(CodeValue(code=c, label_vi=label) for c, label in labels.items()),
    )


WARDS = 3321  # commune-level units after the 2025 reorganisation
ETHNIC_GROUPS = [f"{i:02d}" for i in range(1, 55)]
RELIGIONS = [f"{i:02d}" for i in range(0, 17)]
ORGANISATIONS = ["HPN", "HND", "DTN", "CCB", "CD", "NCT"]


def wards(count: int = WARDS) -> list[str]:
    return [f"{i:05d}" for i in range(1, count + 1)]


def code_lists(ward_count: int = WARDS) -> dict[str, CodeList]:
    """Every list the three contracts bind, with realistic sizes (3,321 wards, 54 ethnic groups).

    GX's fixed cost per batch grows with the size of the value sets (mostly the wards), so unit tests that
    validate many tiny frames pass a smaller ``ward_count``.
    """
    return {
        cl.name: cl
        for cl in (
            code_list("sexes", {"1": "Nam", "2": "Nữ"}),
            code_list("ethnic_groups", ETHNIC_GROUPS),
            code_list("religions", RELIGIONS),
            code_list("provinces", [f"{i:02d}" for i in range(1, 35)]),
            code_list("wards", wards(ward_count)),
            code_list("organisations", ORGANISATIONS),
            code_list("member_statuses", ["active", "left", "deceased"]),
            code_list("feedback_channels", ["hotline", "web", "zalo", "direct"]),
            code_list("feedback_categories", ["land", "health", "social", "other"]),
            code_list(
                "feedback_statuses",
                {"received": "Đã tiếp nhận", "processing": "Đang xử lý", "resolved": "Đã giải quyết"},
            ),
            code_list("relief_campaigns", ["2024-yagi", "2025-mien-trung"]),
            code_list("relief_roles", ["donor", "beneficiary"]),
        )
    }


# Kinds of planted problems: each bad row gets exactly one, chosen at random.
PROBLEMS = (
    "no_name", "bad_ethnicity", "short_id", "born_in_future", "joined_before_birth", "bad_ward", "bad_phone"
)


def members(
    n: int, *, bad_share: float = 0.05, seed: int = 0, ward_count: int = WARDS
) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` member rows, about ``bad_share`` of them with one planted problem.

    Strings are pandas ``str``, dates ``datetime64[us]`` (what ``pd.to_datetime`` gives in pandas 3).

    Returns:
        The frame and the sorted positions of the planted bad rows.
    """
    rng = np.random.default_rng(seed)

    def pick(values: list[str]) -> np.ndarray:
        return np.array(values)[rng.integers(0, len(values), n)]

    ids = pd.Series(np.arange(n))
    dob = np.datetime64("1940-01-01") + rng.integers(0, 50 * 365, n).astype("timedelta64[D]")
    joined = dob + rng.integers(16 * 365, 20 * 365, n).astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "member_id": ids.astype("str").radd("HV"),
            "full_name": pick(["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung"]),
            "family_name": None,
            "middle_name": None,
            "given_name": None,
            "sex": pick(["1", "2"]),
            "date_of_birth": dob.astype("datetime64[us]"),
            "id_number": pd.Series(rng.integers(10**11, 10**12, n)).astype("str"),
            "phone": pd.Series(rng.integers(10**8, 10**9, n)).astype("str").radd("09"),
            "ethnicity_code": pick(ETHNIC_GROUPS),
            "religion_code": pick(RELIGIONS),
            "province_code": None,
            "ward_code": pick(wards(ward_count)),
            "address": "Số 1 đường Trần Phú",
            "organisation": pick(ORGANISATIONS),
            "branch": "Chi hội 1",
            "joined_on": joined.astype("datetime64[us]"),
            "status": pick(["active", "left"]),
        }
    )
    for col in frame.columns:
        if col not in ("date_of_birth", "joined_on"):
            frame[col] = frame[col].astype("str")
    bad = np.flatnonzero(rng.random(n) < bad_share)
    kind = rng.integers(0, len(PROBLEMS), len(bad))
    for k, problem in enumerate(PROBLEMS):
        rows = bad[kind == k]
        if problem == "no_name":
            frame.loc[rows, "full_name"] = None
        elif problem == "bad_ethnicity":
            frame.loc[rows, "ethnicity_code"] = "Kinhh"
        elif problem == "short_id":
            frame.loc[rows, "id_number"] = "12345"
        elif problem == "born_in_future":
            frame.loc[rows, "date_of_birth"] = pd.Timestamp("2090-05-01")
            frame.loc[rows, "joined_on"] = pd.NaT
        elif problem == "joined_before_birth":
            frame.loc[rows, "joined_on"] = frame.loc[rows, "date_of_birth"] - pd.Timedelta(days=1)
        elif problem == "bad_ward":
            frame.loc[rows, "ward_code"] = "99999"
        elif problem == "bad_phone":
            frame.loc[rows, "phone"] = "12345"
    return frame, bad


def feedback(n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` valid feedback rows (received in 2024, resolved a few days later when the status says so)."""
    rng = np.random.default_rng(seed)

    def pick(values: list[str]) -> pd.Series:
        return pd.Series(np.array(values)[rng.integers(0, len(values), n)]).astype("str")

    received = np.datetime64("2024-01-01T08:00") + rng.integers(0, 300 * 24 * 60, n).astype("timedelta64[m]")
    resolved = rng.random(n) < 0.5
    resolved_at = pd.Series(received + rng.integers(60, 10 * 24 * 60, n).astype("timedelta64[m]"))
    resolved_at[~resolved] = pd.NaT
    return pd.DataFrame(
        {
            "feedback_id": pd.Series(np.arange(n)).astype("str").radd("PA").astype("str"),
            "received_at": pd.Series(received.astype("datetime64[us]")),
            "channel": pick(["hotline", "web", "zalo"]),
            "category": pick(["land", "health", "social"]),
            "province_code": pd.Series([None] * n, dtype="str"),
            "ward_code": pick(["00001", "00002", "00003"]),
            "status": pd.Series(np.where(resolved, "resolved", "processing")).astype("str"),
            "resolved_at": resolved_at.astype("datetime64[us]"),
            "satisfaction": pd.array(rng.integers(1, 6, n), dtype="Int64"),
        }
    )


def relief(n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` valid relief rows."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "record_id": pd.Series(np.arange(n)).astype("str").radd("GD").astype("str"),
            "campaign": pd.Series(["2024-yagi"] * n, dtype="str"),
            "role": pd.Series(np.array(["donor", "beneficiary"])[rng.integers(0, 2, n)]).astype("str"),
            "party_name": pd.Series(["Công ty TNHH Bình Minh"] * n, dtype="str"),
            "id_number": pd.Series(rng.integers(10**11, 10**12, n)).astype("str"),
            "organisation": pd.Series(["HPN"] * n, dtype="str"),
            "province_code": pd.Series([None] * n, dtype="str"),
            "ward_code": pd.Series(["00001"] * n, dtype="str"),
            "amount_vnd": pd.array(rng.integers(1, 10**9, n), dtype="Int64"),
            "transaction_date": pd.Series(
                np.datetime64("2024-09-10") + rng.integers(0, 100, n).astype("timedelta64[D]")
            ).astype("datetime64[us]"),
        }
    )
