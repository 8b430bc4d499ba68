"""The outcome of a mass action: what was changed and what was refused, and why."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from flask_babel import gettext, ngettext

SUMMARY_LIMIT = 10
from app.domain.inputs import MAX_ID as ID_MAX


def _tickets(done: int, refused: int) -> tuple[str, str]:
    return (ngettext("%(num)d atendimento alterado", "%(num)d atendimentos alterados", done),
            ngettext("%(num)d recusado", "%(num)d recusados", refused))


def _service_orders(done: int, refused: int) -> tuple[str, str]:
    return (ngettext("%(num)d ordem alterada", "%(num)d ordens alteradas", done),
            ngettext("%(num)d recusada", "%(num)d recusadas", refused))


NOUNS: dict[str, Callable[[int, int], tuple[str, str]]] = {"ticket": _tickets, "service_order": _service_orders}


def unique_ids(ids: Iterable[Any]) -> list[Any]:
    """The selected ids once each, in the order given: integers where they are, anything else as sent."""
    wanted: list[Any] = []
    for raw in ids:
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            wanted.append(str(raw))
    return list(dict.fromkeys(wanted))


def storable(ids: Iterable[Any]) -> list[int]:
    """The ids that can name a record (positive 64-bit integers); a query never sees the others."""
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= ID_MAX]


@dataclass
class MassResult:
    """done: labels of the changed records; refused: (label, pt-BR reason) of each record left untouched."""

    kind: str = "ticket"
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def refuse(self, label: Any, reason: Any) -> None:
        self.refused.append((str(label), str(reason).rstrip(".")))

    @property
    def settled(self) -> int:
        return len(self.done) + len(self.refused)

    def stage(self, session: Any, label: Any, reason: Any = None) -> None:
        """Keep one record's outcome in the transaction of its change (a background job's report); nothing here."""

    def summary(self, done_text: Optional[str] = None) -> str:
        """Flash text, e.g. "3 ordens alteradas; 2 recusadas: 123 (OS já finalizada não aceita alterações), …"."""
        default_text, refused_text = NOUNS[self.kind](len(self.done), len(self.refused))
        done_text = done_text or default_text
        if not self.refused:
            return done_text
        reasons = ", ".join(f"{label} ({reason})" for label, reason in self.refused[:SUMMARY_LIMIT])
        if len(self.refused) > SUMMARY_LIMIT:
            reasons += " " + gettext("e mais %(num)d", num=len(self.refused) - SUMMARY_LIMIT)
        return f"{done_text}; {refused_text}: {reasons}"
