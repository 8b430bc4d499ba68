"""Fill empty pt-BR entries with their msgid: the app's strings are written in pt-BR already.

Only for msgids of the app (not Flask-AppBuilder's English ones, which need a real translation):
entries whose every location is under app/ are filled; the others are listed and left empty.
Usage: .venv/bin/python scripts/fill_identity_translations.py app/translations/pt_BR/LC_MESSAGES/messages.po
"""
from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po


def main(path: str) -> int:
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale="pt_BR")
    left = []
    for message in catalog:
        if not message.id:
            continue
        empty = not any(message.string) if isinstance(message.id, tuple) else not message.string
        if not empty:
            continue
        if not all(location.startswith("app/") for location, _line in message.locations):
            left.append(message.id)
            continue
        if isinstance(message.id, tuple):
            message.string = tuple([message.id[0]] + [message.id[1]] * (len(message.string) - 1 or 1))
        else:
            message.string = message.id
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=100, sort_by_file=True, ignore_obsolete=True)
    for msgid in left:
        print(f"sem tradução (texto do Flask-AppBuilder): {msgid!r}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
