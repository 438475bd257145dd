"""Field knowledge of Vietnamese text, at the bottom of the hub, each piece defined once (issue 14).

Everything above may import it (connectors, catalog, cleaning, quality, match, the demo); it imports nothing of
the hub but its errors (STYLE rule 13, the layers contract in pyproject.toml). Modules:

- :mod:`.letters`: the vowels, the tone marks and vowel marks, the Vietnamese letters, tones stripped off;
- :mod:`.syllables`: which strings are syllables, and where the tone goes in either convention (hòa / hoà);
- :mod:`.folding`: the keys text is compared by (accents and case folded; or tone placement only);
- :mod:`.legacy_encodings`: TCVN3, VNI, VIQR tables and string converters, cp1258 written as Windows does;
- :mod:`.encoding_detection`: which encoding a file's bytes and each column of its text are in;
- :mod:`.header_labels`: the usual Vietnamese labels of a member list's columns.
"""
