"""The home page (工作台): what waits for the user, and for those who watch the whole city, today's figures.

Core knows no domain. Each app contributes through its AppConfig, like `url_prefix` and `api_prefix`:

- `home_cards(user) -> list[Card]`: the cards of the user's work in that app, each with a live count of what
  waits (a COUNT query in the user's scope, through the app's selectors) and how much of it is overdue;
- `home_figures(user) -> list[Figure]`: the city's figures of today, for the roles that watch them;
- `home_url(user) -> str | None`: where this user's home is instead, when it is that app's (a resident's home
  is the portal).

An app without those hooks contributes nothing; a card without a count is a plain link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Card:
    """One card: a title, what it is for, where it leads; `count` of what waits there (None: no count), `late` of
    which overdue (shown only when > 0). Cards sort by `order`, then by the order the apps gave them."""

    title: object
    text: object
    url: str
    count: int | None = None
    late: int | None = None
    order: int = 50


@dataclass(frozen=True)
class Figure:
    """One figure of today: a label, its value as shown (a number, a percentage, "—" when nothing to count) and an
    optional link to what it counts."""

    label: object
    value: str
    url: str = ""
    hint: object = ""
    alert: bool = False


# Core's own cards: what no domain app owns.
def core_cards(user) -> list[Card]:
    cards = []
    if user.is_staff:  # the admin site lets staff accounts in, whatever their roles
        cards.append(Card(_("管理后台"), _("参考数据、用户与组织"), "/admin/", order=90))
    return cards


def home_elsewhere(user) -> str | None:
    """The first app that claims the user's home (AppConfig.home_url), or None: the workbench."""
    for config in apps.get_app_configs():
        claim = getattr(config, "home_url", None)
        url = claim(user) if claim is not None else None
        if url:
            return url
    return None


def home_cards(user) -> list[Card]:
    cards = core_cards(user)
    for config in apps.get_app_configs():
        contribute = getattr(config, "home_cards", None)
        if contribute is not None:
            cards.extend(contribute(user))
    return sorted(cards, key=lambda card: card.order)  # stable: an app's own order is kept


def home_figures(user) -> list[Figure]:
    figures = []
    for config in apps.get_app_configs():
        contribute = getattr(config, "home_figures", None)
        if contribute is not None:
            figures.extend(contribute(user))
    return figures


def percent(part: int, whole: int) -> str:
    """'93.5%' — or '—' when there is nothing to count."""
    return f"{100 * part / whole:.1f}%" if whole else "—"
