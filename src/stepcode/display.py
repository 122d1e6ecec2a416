"""Text shown to a person: program output, reprs, errors and model text made safe to print.

Anything a program or a model wrote may carry terminal escapes (``\\x1b[2J``), carriage returns that
overwrite what a line said, bidi overrides that reorder it, or markup. ``printable`` escapes every
control and format character (newlines and tabs stay) and bounds the length, saying how much was
cut; ``html_text`` is ``printable`` then HTML-escaped, for ``report.html`` and other pages.
"""

from __future__ import annotations

import html
import unicodedata

_KEEP = frozenset("\n\t")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, limit: int | None = None) -> str:
    """``text`` with control/format characters escaped (``\\x1b``, ``\\u202e``), cut at ``limit``.

    Newlines and tabs are kept. Non-strings are shown through ``str`` (a failing ``__str__`` shows as
    ``<unprintable>``). A cut text ends with ``...[N more chars]``.
    """
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # noqa: BLE001 - display must never raise
            text = "<unprintable>"
    extra = 0
    if limit is not None and len(text) > limit:
        extra, text = len(text) - limit, text[:limit]
    out = "".join(
        _escape(ch)
        if ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
        else ch
        for ch in text
    )
    return out + (f"...[{extra} more chars]" if extra else "")


def html_text(text: object, limit: int | None = None) -> str:
    """``printable(text, limit)`` HTML-escaped (quotes included): safe inside elements and attributes."""
    return html.escape(printable(text, limit), quote=True)
