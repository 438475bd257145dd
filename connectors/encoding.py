"""Text encodings of member organisations' files, as the readers import them: detect and decode a file's bytes,
and (for tests and demo data) write cp1258.

Defined once with the rest of the field knowledge of Vietnamese text (issue 14): the byte-level detection in
:mod:`lienthong.vietnamese.encoding_detection` (next to the column-level one it asks about legacy fonts), the
cp1258 writer in :mod:`lienthong.vietnamese.legacy_encodings`.
"""

from lienthong.vietnamese.encoding_detection import decode_text, detect_encoding
from lienthong.vietnamese.legacy_encodings import encode_cp1258

__all__ = ["decode_text", "detect_encoding", "encode_cp1258"]
