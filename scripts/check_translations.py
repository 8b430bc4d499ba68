#!/usr/bin/env python3
"""Fail when a gettext catalog has an untranslated or fuzzy entry.

Usage: python scripts/check_translations.py app/translations/pt_BR/LC_MESSAGES/messages.po

Exit status 0 when every entry (the header excluded) is translated and none
(the header included) is fuzzy; 1 otherwise, listing the offending entries; 2 when the file is missing
or unreadable. Obsolete entries (#~) are not used at runtime and are ignored.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

from babel.messages.pofile import read_po


def _is_untranslated(string: object) -> bool:
    if isinstance(string, (list, tuple)):  # plural forms: every form must be filled
        return not string or any(not s for s in string)
    return not string


def problems(path: str | Path) -> list[str]:
    """Return one line per untranslated or fuzzy entry of the catalog at *path*."""
    path = Path(path)
    with path.open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    found = []
    if catalog.fuzzy:  # `pybabel compile` skips a catalog whose header is fuzzy
        found.append("fuzzy: o cabeçalho do catálogo está marcado como fuzzy")
    for message in catalog:
        if not message.id:  # the header
            continue
        msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:1]) or f"linha {message.lineno}"
        if message.fuzzy:
            found.append(f"fuzzy: {msgid!r} ({where})")
        elif _is_untranslated(message.string):
            found.append(f"sem tradução: {msgid!r} ({where})")
    return found


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        found = problems(args[0])
    except (OSError, Exception) as error:  # noqa: BLE001 - any parse error fails the check
        print(f"ERRO: não foi possível ler {args[0]}: {error}", file=sys.stderr)
        return 2
    if found:
        print(f"{args[0]}: {len(found)} entrada(s) sem tradução ou fuzzy:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"{args[0]}: todas as entradas traduzidas.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
