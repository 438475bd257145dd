"""docs/BENCHMARKS.md is shared by several benchmarks: each one rewrites only its own marked section."""

from __future__ import annotations

import re
from pathlib import Path

_TITLE = "# Benchmarks\n\nEach section is written by the command it names, on this machine; rerun it to reproduce.\n"


def write_section(path: Path, name: str, markdown: str) -> None:
    """Replace (or append) the section ``name`` of the benchmarks file at ``path``; other sections stay as they are.

    Args:
        path: the benchmarks file, created when missing.
        name: a short section id such as ``hub``, ``match`` or ``api``.
        markdown: the section's body, starting with its own ``## `` heading.
    """
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _TITLE
    if "<!-- bench:" not in text:  # a file from before the sections: keep nothing of it but the title
        text = _TITLE
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def with_size_block(path: Path, name: str, heading: str, size: int, block: str) -> str:
    """The body of section ``name`` with the block of ``size`` (rows, records) replaced and the blocks of the other
    sizes already in ``path`` kept, smallest first: a run at 1M does not erase the figures of a run at 10M."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = re.search(f"<!-- bench:{re.escape(name)} -->(.*?)<!-- /bench:{re.escape(name)} -->", text, re.S)
    blocks = dict(re.findall(r"<!-- size:(\d+) -->(.*?)<!-- /size -->", section.group(1), re.S)) if section else {}
    blocks[str(size)] = "\n" + block.strip() + "\n"
    ordered = sorted(blocks.items(), key=lambda kv: int(kv[0]))
    body = "".join(f"<!-- size:{k} -->{v}<!-- /size -->\n\n" for k, v in ordered)
    return f"{heading}\n\n{body}"
