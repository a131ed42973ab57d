"""CSV files that spreadsheets and learning platforms open safely.

Every CSV the batch writes goes through here: cells a spreadsheet would take for a formula
(a student named ``=HYPERLINK("…")``, a message starting with ``-``) are neutralised the way
OWASP's "CSV Injection" page recommends (a leading ``'`` makes the cell text), numbers stay
numbers, and ``excel=True`` writes a UTF-8 byte-order mark so that Excel shows ``Yılmaz``
rather than ``YÄ±lmaz``. Reading takes the same BOM off again.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: the characters a formula may begin with
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def neutralise(cell) -> str:
    """Return ``cell`` as text a spreadsheet shows as text: ``=1+1`` → ``'=1+1``; ``-2.5`` stays a number."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def write(path: Path, rows: list[list], *, excel: bool = False, safe: bool = True, delimiter: str = ",") -> Path:
    """Write ``rows`` (the header first) as CSV: cells neutralised when ``safe``, a BOM when ``excel``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig" if excel else "utf-8") as f:
        out = csv.writer(f, delimiter=delimiter)
        for row in rows:
            out.writerow([neutralise(c) if safe else ("" if c is None else str(c)) for c in row])
    return path


def read(path: Path) -> tuple[list[list[str]], str]:
    """Return the rows of a CSV downloaded from a platform and its delimiter (``,`` or ``;``).

    UTF-8 with or without a BOM; a file saved by Excel in Windows-1252 is read as that.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)], delimiter
