"""Field knowledge of Vietnamese text, at the bottom of the hub: legacy encodings, the syllable model, and which
encoding a column is in.

Everything above may import it (connectors, cleaning, match, the demo); it imports nothing of the hub (STYLE rule
13, the layers contract in pyproject.toml). Modules: :mod:`.legacy_encodings` (TCVN3, VNI, VIQR tables and string
converters), :mod:`.syllables` (which strings are syllables, where the tone goes), :mod:`.encoding_detection`
(a column's encoding, judged from all its words), :mod:`.folding` (the accent- and case-insensitive key labels are
compared by), :mod:`.header_labels` (the usual Vietnamese labels of a member list's columns).
"""
