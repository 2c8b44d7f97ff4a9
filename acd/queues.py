"""Known ACD skill queues and transfer departments (flows are checked against these)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QueueDef:
    name: str
    display: dict[str, str] = field(default_factory=dict)  # language -> display name


DEFAULT_QUEUES: tuple[QueueDef, ...] = (
    QueueDef("orders", {"ja": "ご注文", "en": "Orders"}),
    QueueDef("returns", {"ja": "返品・交換", "en": "Returns and exchanges"}),
    QueueDef("complaints", {"ja": "苦情", "en": "Complaints"}),
    QueueDef("inquiries", {"ja": "その他のお問い合わせ", "en": "Other inquiries"}),
    QueueDef("operator", {"ja": "オペレーター", "en": "Operator"}),
)

DEPARTMENTS: dict[str, str] = {
    "warehouse": "2001",
    "billing": "2002",
}
"""Department name -> extension, for the ``transfer`` verb."""


def known_queue_names() -> frozenset[str]:
    return frozenset(q.name for q in DEFAULT_QUEUES)


def known_departments() -> dict[str, str]:
    return dict(DEPARTMENTS)


def queue_display_name(name: str, lang: str) -> str:
    for q in DEFAULT_QUEUES:
        if q.name == name:
            return q.display.get(lang, name)
    return name
