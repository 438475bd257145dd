"""Seeded English-locale people records in the shape of the public FEBRL benchmark, with the truth.

Why: the matcher is documented for "any file, any locale", and the public record-linkage benchmarks people try
it on (FEBRL: given name, surname, street number, two address lines, suburb, postcode, state, date of birth,
social-security id) are English-locale. Nothing is downloaded: originals are drawn from small built-in name and
place lists (frequencies skewed like real ones, with a long tail of rarer surnames made from syllables), and
duplicates are made the way FEBRL's generator makes them — up to five of an original, each with a few
modifications: a typo (insertion, deletion, substitution, transposition), a value dropped, given name and
surname swapped, day and month swapped, a digit of the postcode, date or id changed, a suburb misspelt.

Every value is a string as a file sends it (an empty cell is ``""``); ``truth`` says which original each record
copies. Same arguments, same tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COLUMNS = ("rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
           "state", "date_of_birth", "soc_sec_id")
GIVEN = _words("james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan "
         "joseph jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony margaret "
         "mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth dorothy kevin "
         "carol brian amanda george melissa timothy deborah ronald stephanie edward rebecca jason sharon jeffrey "
         "laura ryan cynthia jacob kathleen gary amy nicholas angela eric shirley jonathan anna stephen brenda "
         "larry pamela justin emma scott nicole brandon helen benjamin samantha samuel katherine gregory christine "
         "alexander debra frank rachel patrick carolyn raymond janet jack catherine dennis maria jerry heather "
         "tyler diane aaron ruth jose julie adam olivia nathan joyce henry virginia douglas victoria zachary "
         "kelly peter lauren kyle christina ethan joan walter evelyn noah judith jeremy megan christian andrea "
         "keith cheryl roger hannah terry jacqueline gerald martha harold gloria sean teresa austin ann carl sara "
         "arthur madison lawrence frances dylan kathryn jesse janice jordan jean bryan abigail billy alice joe "
         "judy bruce sophia gabriel grace logan denise albert amber willie doris alan marilyn juan danielle wayne "
         "beverly elijah isabella randy theresa roy diana vincent natalie ralph brittany eugene charlotte russell "
         "marie bobby kayla mason alexis philip lori liam chloe jai lachlan mia ella zoe tahlia jye kye")
SURNAMES = _words("smith jones williams brown wilson taylor johnson white martin anderson thompson nguyen thomas "
                  "walker "
            "harris lee ryan robinson kelly king davis wright evans roberts green hall wood jackson clarke patel "
            "khan lewis james phillips mitchell campbell young allen turner scott murphy cook morris edwards baker "
            "moore clark hughes parker collins bell stewart murray ward morgan cooper harrison watson hill price "
            "bennett gray reid shaw richardson russell hunt fraser wallace dunn mills graham kennedy sullivan webb "
            "mcdonald hamilton palmer ross marshall hayes o'brien stevens grant ellis bailey chapman barnes burns "
            "gibson fisher knight butler ferguson crawford holmes matthews pearce simpson lloyd hudson lane berry "
            "rose cole henderson carter mason spencer black walsh byrne dixon warren hart bradley ryder kent")
_SYLLABLES = _words("an ber bran cal dal den dor el fen gar gol hal har kel kin lan ler mar mel mor nor pen quin ram "
              "ren ros sel sten tal tor val ven wal win yar zel")
_ENDINGS = _words("ton ford well son ley field wood worth by more ridge hurst stone man ard ett ington ell")
STREETS = _words("main high church park station george victoria king queen elizabeth william albert railway bridge "
           "mill hill river beach ocean forest lake spring north south east west new smith wattle banksia "
           "acacia jacaranda eucalypt kurrajong bottlebrush grevillea waratah boronia")
STREET_TYPES = ("street", "road", "avenue", "place", "crescent", "drive", "court", "parade", "close", "way")
PLACES = ("villa", "unit", "flat", "apartment", "house", "cottage", "farm", "estate")
STATES = ("nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt")
STATE_SHARE = (0.32, 0.26, 0.2, 0.1, 0.07, 0.02, 0.02, 0.01)
POSTCODE_START = {"nsw": 2000, "vic": 3000, "qld": 4000, "wa": 6000, "sa": 5000, "tas": 7000, "act": 2600,
                  "nt": 800}
SEED = 7
MAX_DUPLICATES = 5
DUPLICATE_SHARE = 0.4  # of originals that get one or more duplicates


@dataclass(frozen=True)
class GenericSample:
    """``records`` (:data:`COLUMNS`, strings) and ``truth`` (``record_id``, ``person_id``)."""

    records: pa.Table
    truth: pa.Table


def generate_people_generic(n_records: int, *, seed: int = 7) -> GenericSample:
    """About ``n_records`` records: originals and their modified duplicates, shuffled, with the truth."""
    rng = np.random.default_rng([17, seed])
    originals = max(int(n_records / (1 + DUPLICATE_SHARE * 2.2)), 10)
    places = _places(rng, max(originals // 25, 50))
    people = [_original(rng, places) for _ in range(originals)]
    rows: list[dict[str, str]] = []
    persons: list[int] = []
    for p, person in enumerate(people):
        rows.append({**person, "rec_id": f"rec-{p}-org"})
        persons.append(p)
        if rng.random() < DUPLICATE_SHARE:
            for d in range(1 + min(int(rng.zipf(2.2)) - 1, MAX_DUPLICATES - 1)):
                rows.append({**_duplicate(rng, person, places), "rec_id": f"rec-{p}-dup-{d}"})
                persons.append(p)
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    persons = [persons[i] for i in order]
    records = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS})
    truth = pa.table({"record_id": records.column("rec_id"), "person_id": pa.array(persons, pa.int64())})
    return GenericSample(records=records, truth=truth)


def _skewed(rng: np.random.Generator, values: list[str] | tuple[str, ...]) -> str:
    """A value of ``values``, the first ones far more often (name frequencies are Zipf-like)."""
    return values[min(int(rng.zipf(1.3)) - 1, len(values) - 1)] if rng.random() < 0.85 else \
        values[int(rng.integers(0, len(values)))]


def _rare_surname(rng: np.random.Generator) -> str:
    parts = rng.choice(_SYLLABLES, size=int(rng.integers(1, 3)))
    return "".join(parts) + str(rng.choice(_ENDINGS))


def _places(rng: np.random.Generator, n: int) -> list[tuple[str, str, str]]:
    """(suburb, postcode, state): suburbs made of syllables, postcodes in the state's range."""
    out = []
    for _ in range(n):
        state = STATES[int(rng.choice(len(STATES), p=STATE_SHARE))]
        suburb = _rare_surname(rng) if rng.random() < 0.7 else f"{rng.choice(_SYLLABLES)}{rng.choice(_ENDINGS)}"
        out.append((suburb, str(POSTCODE_START[state] + int(rng.integers(0, 900))).zfill(4), state))
    return out


def _original(rng: np.random.Generator, places: list[tuple[str, str, str]]) -> dict[str, str]:
    suburb, postcode, state = places[int(rng.integers(0, len(places)))]
    born = np.datetime64("1920-01-01") + int(rng.integers(0, 365 * 85))
    surname = _skewed(rng, SURNAMES) if rng.random() < 0.6 else _rare_surname(rng)
    return {
        "given_name": _skewed(rng, GIVEN) if rng.random() > 0.02 else "",
        "surname": surname if rng.random() > 0.01 else "",
        "street_number": str(int(rng.zipf(1.6)) % 400 + 1) if rng.random() > 0.05 else "",
        "address_1": f"{rng.choice(STREETS)} {rng.choice(STREET_TYPES)}" if rng.random() > 0.02 else "",
        "address_2": f"{rng.choice(PLACES)} {_rare_surname(rng)}" if rng.random() < 0.35 else "",
        "suburb": suburb if rng.random() > 0.01 else "",
        "postcode": postcode,
        "state": state if rng.random() > 0.05 else "",
        "date_of_birth": str(born).replace("-", "") if rng.random() > 0.03 else "",
        "soc_sec_id": str(int(rng.integers(1_000_000, 9_999_999))),
    }


def _typo(rng: np.random.Generator, text: str) -> str:
    """One insertion, deletion, substitution or transposition at a random place."""
    if not text:
        return text
    i = int(rng.integers(0, len(text)))
    letter = "0123456789"[int(rng.integers(0, 10))] if text.isdigit() else chr(97 + int(rng.integers(0, 26)))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return text[:i] + letter + text[i:]
    if kind == 1 and len(text) > 2:
        return text[:i] + text[i + 1:]
    if kind == 2 or len(text) < 2:
        return text[:i] + letter + text[i + 1:]
    i = min(i, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


_TYPO_FIELDS = ("given_name", "surname", "address_1", "address_2", "suburb", "street_number", "postcode",
                "date_of_birth", "soc_sec_id")
_DROP_FIELDS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "state",
                "date_of_birth", "soc_sec_id")


def _duplicate(rng: np.random.Generator, person: dict[str, str], places: list[tuple[str, str, str]]
               ) -> dict[str, str]:
    """A copy with 1–3 modifications (FEBRL's default: at most 2 per field, 3 per record)."""
    out = dict(person)
    for _ in range(int(rng.integers(1, 4))):
        action = rng.random()
        if action < 0.55:
            field = _TYPO_FIELDS[int(rng.integers(0, len(_TYPO_FIELDS)))]
            out[field] = _typo(rng, out[field])
        elif action < 0.75:
            out[_DROP_FIELDS[int(rng.integers(0, len(_DROP_FIELDS)))]] = ""
        elif action < 0.83:
            out["given_name"], out["surname"] = out["surname"], out["given_name"]
        elif action < 0.9 and len(out["date_of_birth"]) == 8:
            dob = out["date_of_birth"]
            if int(dob[6:]) <= 12:
                out["date_of_birth"] = dob[:4] + dob[6:] + dob[4:6]
        elif action < 0.95:
            out["address_1"], out["address_2"] = out["address_2"], out["address_1"]
        else:  # moved within the state: another suburb and postcode, another street
            suburb, postcode, state = places[int(rng.integers(0, len(places)))]
            out.update(suburb=suburb, postcode=postcode, state=state,
                       address_1=f"{rng.choice(STREETS)} {rng.choice(STREET_TYPES)}",
                       street_number=str(int(rng.integers(1, 200))))
    return out
