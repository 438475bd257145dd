"""Hostile files, generated: hand-written XLSX zips, zip bombs kept small on disk, deep JSON, non-feeds.

Every file is built here from a few lines (nothing downloaded); the big ones are big only once unzipped.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

MEDIA_CSV = "text/csv"
MEDIA_JSON = "application/json"
MEDIA_NDJSON = "application/x-ndjson"
MEDIA_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
    'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>'
)
_STRINGS_REL = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'sharedStrings" Target="sharedStrings.xml"/>')
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def inline(ref: str, text: str) -> str:
    """A cell holding an inline string."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"{_SHEET_HEAD}{dim}<sheetData>{rows}</sheetData></worksheet>"


def workbook(sheet: str | bytes, *, shared_strings: str | None = None, extra: dict[str, bytes] | None = None,
             level: int = 6) -> bytes:
    """A minimal XLSX written by hand with zipfile: one sheet, optionally shared strings and more members."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(extra=_STRINGS_REL if shared_strings else ""))
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            z.writestr("xl/sharedStrings.xml", shared_strings)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def good_xlsx() -> bytes:
    return workbook(sheet_xml(
        f'<row r="1">{inline("A1", "Mã hội viên")}{inline("B1", "Họ và tên")}</row>'
        f'<row r="2">{inline("A2", "HV1")}{inline("B2", "Nguyễn Thị Hoà")}</row>', "A1:B2"))


def far_cell_xlsx() -> bytes:
    """A header at A1 and one cell at XFD1048576: calamine would allocate 512 GiB (the 1,765-byte file)."""
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "Họ và tên")}</row>'
                              f'<row r="1048576">{inline("XFD1048576", "x")}</row>'))


def only_far_cell_xlsx() -> bytes:
    """Its only cell at XFD1048576, declared so."""
    return workbook(sheet_xml(f'<row r="1048576">{inline("XFD1048576", "x")}</row>', "A1:XFD1048576"))


def huge_dimension_xlsx() -> bytes:
    """Two real cells, but a declared dimension of the whole grid."""
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "a")}</row><row r="2">{inline("A2", "1")}</row>',
                              "A1:XFD1048576"))


def row_bomb_xlsx(rows: int = 400_000) -> bytes:
    """Many short rows compressing several hundred times: 10 MB of sheet XML in a ~25 KB file."""
    return _streamed_sheet(rows, b"<row><c><v>1</v></c></row>")


def _streamed_sheet(rows: int, row: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(extra=""))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write((_SHEET_HEAD + "<sheetData>").encode())
            block = row * 10_000
            for _ in range(rows // 10_000):
                f.write(block)
            f.write(b"</sheetData></worksheet>")
    return out.getvalue()


def many_rows_xlsx(rows: int) -> bytes:
    """A header and ``rows`` rows of varied values (an ordinary compression ratio)."""
    body = "".join(f'<row r="{i}"><c r="A{i}"><v>{i * 7919 % 100003}</v></c></row>' for i in range(2, rows + 2))
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "n")}</row>{body}'))


def lying_sizes_xlsx() -> bytes:
    """A sheet of ~5 MB whose zip entry declares 300 bytes: a reader trusting the directory would be fooled."""
    data = workbook(sheet_xml("<row><c><v>1</v></c></row>" * 200_000))
    return _patch_declared_size(data, "xl/worksheets/sheet1.xml", 300)


def _patch_declared_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size of ``member`` in its local header and the central directory."""
    buf = bytearray(data)
    name = member.encode()
    at = buf.find(b"PK\x01\x02")
    while at != -1:  # central directory entries
        n = struct.unpack("<H", buf[at + 28:at + 30])[0]
        if bytes(buf[at + 46:at + 46 + n]) == name:
            struct.pack_into("<I", buf, at + 24, size)
            offset = struct.unpack("<I", buf[at + 42:at + 46])[0]
            struct.pack_into("<I", buf, offset + 22, size)
        at = buf.find(b"PK\x01\x02", at + 4)
    return bytes(buf)


def many_members_xlsx(members: int) -> bytes:
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "a")}</row><row r="2">{inline("A2", "1")}</row>'),
                    extra={f"xl/media/m{i}.bin": b"" for i in range(members)})


def duplicate_member_xlsx() -> bytes:
    """Two zip entries named xl/worksheets/sheet1.xml: one reader may take the first, another the last."""
    out = io.BytesIO(good_xlsx())
    with zipfile.ZipFile(out, "a") as z, _quiet():
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml(f'<row r="1">{inline("XFD1048576", "x")}</row>'))
    return out.getvalue()


class _quiet:
    """Silence zipfile's 'Duplicate name' warning while writing the duplicate on purpose."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)


def big_cell_xlsx(size: int) -> bytes:
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "a")}</row><row r="2">{inline("A2", "x" * size)}</row>'))


def many_strings_xlsx(strings: int) -> bytes:
    items = "".join(f"<si><t>s{i}</t></si>" for i in range(strings))
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           f'2006/main" count="{strings}" uniqueCount="{strings}">{items}</sst>')
    return workbook(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s">'
                              "<v>1</v></c></row>"), shared_strings=sst)


def entity_bomb_xlsx() -> bytes:
    """Billion laughs inside the sheet: a DOCTYPE whose entities expand a few bytes into gigabytes."""
    doctype = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
               '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
    sheet = sheet_xml(f'<row r="1">{inline("A1", "a")}</row><row r="2">{inline("A2", "&d;")}</row>')
    return workbook(sheet.replace("<worksheet", doctype + "<worksheet", 1))


def bad_reference_xlsx() -> bytes:
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "a")}</row><row r="2">{inline("1A", "b")}</row>'))


def header_only_xlsx() -> bytes:
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "Mã hội viên")}{inline("B1", "Họ và tên")}</row>'))


def duplicate_header_xlsx() -> bytes:
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "Họ và tên")}{inline("B1", "Họ và tên ")}</row>'
                              f'<row r="2">{inline("A2", "An")}{inline("B2", "Bình")}</row>'))


def empty_sheet_xlsx() -> bytes:
    return workbook(sheet_xml(""))


def truncated_xlsx() -> bytes:
    data = good_xlsx()
    return data[: len(data) // 2]


# name -> (bytes, media type, file name); each must be refused with 4xx and a reason
HOSTILE: dict[str, Callable[[], tuple[bytes, str, str]]] = {
    "xlsx-far-cell": lambda: (far_cell_xlsx(), MEDIA_XLSX, "far.xlsx"),
    "xlsx-only-far-cell": lambda: (only_far_cell_xlsx(), MEDIA_XLSX, "only-far.xlsx"),
    "xlsx-huge-dimension": lambda: (huge_dimension_xlsx(), MEDIA_XLSX, "dimension.xlsx"),
    "xlsx-row-bomb": lambda: (row_bomb_xlsx(), MEDIA_XLSX, "bomb.xlsx"),
    "xlsx-lying-sizes": lambda: (lying_sizes_xlsx(), MEDIA_XLSX, "lying.xlsx"),
    "xlsx-duplicate-member": lambda: (duplicate_member_xlsx(), MEDIA_XLSX, "twice.xlsx"),
    "xlsx-entity-bomb": lambda: (entity_bomb_xlsx(), MEDIA_XLSX, "laughs.xlsx"),
    "xlsx-bad-reference": lambda: (bad_reference_xlsx(), MEDIA_XLSX, "ref.xlsx"),
    "xlsx-header-only": lambda: (header_only_xlsx(), MEDIA_XLSX, "header.xlsx"),
    "xlsx-duplicate-header": lambda: (duplicate_header_xlsx(), MEDIA_XLSX, "dup.xlsx"),
    "xlsx-empty-sheet": lambda: (empty_sheet_xlsx(), MEDIA_XLSX, "empty.xlsx"),
    "xlsx-truncated": lambda: (truncated_xlsx(), MEDIA_XLSX, "cut.xlsx"),
    "csv-whitespace": lambda: (b"  \r\n\t\n", MEDIA_CSV, "blank.csv"),
    "csv-bom-only": lambda: (b"\xef\xbb\xbf", MEDIA_CSV, "bom.csv"),
    "csv-header-only": lambda: ("Mã hội viên;Họ và tên\n".encode(), MEDIA_CSV, "header.csv"),
    "csv-duplicate-header": lambda: ("Mã hội viên;Họ và tên;Họ và tên\nHV1;An;Bình\n".encode(), MEDIA_CSV,
                                     "dup.csv"),
    "csv-duplicate-header-nfd": lambda: ("Mã hội viên;Họ và tên;Ho\u0323 và tên\nHV1;An;Bình\n".encode(),
                                         MEDIA_CSV, "dup-nfd.csv"),
    "csv-nul": lambda: ("Mã hội viên;Họ và tên\nHV1;An\x00\n".encode(), MEDIA_CSV, "nul.csv"),
    "csv-huge-header-cell": lambda: (b"a" * 200_000 + b";b\n1;2\n", MEDIA_CSV, "wide.csv"),
    "csv-huge-line": lambda: (b"Ma;Ten\n1;" + b"x" * (17 * 1024 * 1024) + b"\n", MEDIA_CSV, "line.csv"),
    "json-deep": lambda: (b"[" * 100_000, MEDIA_JSON, "deep.json"),
    "json-invalid": lambda: (b'[{"a": 1},', MEDIA_JSON, "cut.json"),
    "json-not-a-list": lambda: (b'{"a": 1}', MEDIA_JSON, "object.json"),
    "json-list-of-numbers": lambda: (b"[1, 2, 3]", MEDIA_JSON, "numbers.json"),
    "json-empty-list": lambda: (b"[]", MEDIA_JSON, "empty.json"),
    "json-nul": lambda: ('[{"Mã hội viên": "HV1", "Họ và tên": "A\\u0000n"}]'.encode(), MEDIA_JSON, "nul.json"),
    "ndjson-deep": lambda: (b"[" * 100_000 + b"\n", MEDIA_NDJSON, "deep.ndjson"),
    "ndjson-not-objects": lambda: (b"1\n2\n", MEDIA_NDJSON, "numbers.ndjson"),
}
