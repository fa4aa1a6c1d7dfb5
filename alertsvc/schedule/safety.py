"""Pure checks over the MAR: doses of one ingredient too close together, and doses falling due soon.

A dose counts while it is planned (at its due time) or once given (at the time it was given); held and
refused doses do not count. Two counted doses of the same ingredient for one admission closer than the
minimum interval give a "too-soon" finding bound to the later dose and naming the earlier one. When the
two fall in different shifts (given late in the evening, due early in the night) the rule is
``mar-too-soon-shift`` and the finding names both shifts: that is the hand-over where a repeat is missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from alertsvc.errors import ScheduleError
from alertsvc.knowledge.model import Finding, Ingredient
from alertsvc.knowledge.wording import sentence, steps
from alertsvc.schedule.mar import ScheduledDose, unresolved_ingredient
from alertsvc.schedule.shifts import Ward, shift_at

RULE = "mar-too-soon"
RULE_SHIFT = "mar-too-soon-shift"
SOURCE = "alertsvc-mar"
DEFAULT_MIN_INTERVAL = timedelta(hours=4)


DOSE_REF = "dose:"
"""A finding ref naming the scheduled dose an alert is bound to (the later dose of a too-soon pair)."""
EARLIER_DOSE_REF = "earlier-dose:"
"""A finding ref naming the earlier dose of a too-soon pair (named, not bound to)."""


def too_soon(
    doses: Sequence[ScheduledDose],
    ward: Ward,
    *,
    knowledge_version: str,
    min_interval: timedelta = DEFAULT_MIN_INTERVAL,
    per_ingredient: Mapping[str, timedelta] = MappingProxyType({}),
) -> list[Finding]:
    """ "too-soon" findings over ``doses``, ordered by the later dose's time.

    ``per_ingredient`` overrides ``min_interval`` for an ingredient, keyed by RxCUI or RxNorm name.
    Doses whose drug did not resolve (no ingredients) are compared by drug term, and their finding names
    the drug by its stand-in ingredient (``mar.unresolved_ingredient``). For each later
    dose and ingredient the nearest earlier dose is named; ingredients two doses share are reported in
    one finding.
    """
    if min_interval <= timedelta(0) or any(v <= timedelta(0) for v in per_ingredient.values()):
        raise ScheduleError("minimum intervals between doses must be positive")
    counted = sorted((d for d in doses if d.counts), key=lambda d: (d.effective_time, d.id))
    latest: dict[tuple[str, str], ScheduledDose] = {}
    clashes: dict[tuple[ScheduledDose, ScheduledDose], list[tuple[Ingredient | None, timedelta]]] = {}
    for dose in counted:
        for key, ingredient in _keys(dose):
            earlier = latest.get((dose.admission, key))
            latest[(dose.admission, key)] = dose
            if earlier is None or earlier.id == dose.id:
                continue
            interval = _interval(ingredient, min_interval, per_ingredient)
            if dose.effective_time - earlier.effective_time < interval:
                clashes.setdefault((dose, earlier), []).append((ingredient, interval))
    return [
        _finding(later, earlier, clash, ward, knowledge_version)
        for (later, earlier), clash in clashes.items()
    ]


def due_within(doses: Sequence[ScheduledDose], now: datetime, lead: timedelta) -> list[ScheduledDose]:
    """Doses with no outcome yet that fall due in ``[now, now + lead]``, by due time: the doses to warn
    about ``lead`` ahead (the service uses 60 minutes by default)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ScheduleError(f"now must be an aware date-time, not naive {now.isoformat()}")
    if lead < timedelta(0):
        raise ScheduleError(f"lead time must not be negative, not {lead}")
    now = now.astimezone(UTC)
    soon = [d for d in doses if d.outcome is None and now <= d.due <= now + lead]
    return sorted(soon, key=lambda d: (d.due, d.id))


def _keys(dose: ScheduledDose) -> list[tuple[str, Ingredient | None]]:
    if not dose.ingredients:
        return [(f"drug:{dose.drug.strip().casefold()}", None)]
    unique = {i.rxcui: i for i in dose.ingredients}
    return [(f"in:{rxcui}", ingredient) for rxcui, ingredient in unique.items()]


def _interval(
    ingredient: Ingredient | None, default: timedelta, per_ingredient: Mapping[str, timedelta]
) -> timedelta:
    if ingredient is None:
        return default
    return per_ingredient.get(ingredient.rxcui, per_ingredient.get(ingredient.name, default))


def _finding(
    later: ScheduledDose,
    earlier: ScheduledDose,
    clash: list[tuple[Ingredient | None, timedelta]],
    ward: Ward,
    knowledge_version: str,
) -> Finding:
    zone = ward.zone
    resolved = tuple(i for i, _ in clash if i is not None)
    what = "+".join(i.name for i in resolved) or later.drug.strip()
    # An unresolved drug still needs an ingredient: alerts are deduplicated by ingredients, and two
    # unknown drugs given too soon must not fold into one alert.
    ingredients = resolved or (unresolved_ingredient(later.drug),)
    interval = max(v for _, v in clash)
    gap = later.effective_time - earlier.effective_time
    later_shift, earlier_shift = shift_at(ward, later.effective_time), shift_at(ward, earlier.effective_time)
    across = later_shift.start != earlier_shift.start
    when_later = f"{_verb(later)} {later.effective_time.astimezone(zone):%H:%M}"
    when_earlier = f"{_verb(earlier)} {earlier.effective_time.astimezone(zone):%H:%M}"
    if across:
        summary = (
            f"{what} {when_later} ({later_shift.name} shift), {_span(gap)} after a dose {when_earlier}"
            f" ({earlier_shift.name} shift); minimum {_span(interval)}"
        )
    else:
        summary = f"{what} {when_later}, {_span(gap)} after a dose {when_earlier}; minimum {_span(interval)}"
    not_before = (earlier.effective_time + interval).astimezone(zone)
    management = steps(
        (
            f"Hold this dose: do not give {later.drug} before {not_before:%d %b %H:%M}.",
            f"Check the MAR: the dose of {earlier.drug} was {when_earlier}"
            + (f" during the {earlier_shift.label(zone)} shift." if across else "."),
            "Give it sooner only if the prescriber confirms the shorter interval; record who confirmed it.",
        )
    )
    evidence = tuple(f"in:{i.rxcui}" for i in resolved) or (f"drug:{what}",)
    if across:
        evidence += (f"shift:{earlier_shift.name}", f"shift:{later_shift.name}")
    return Finding(
        kind="too-soon",
        severity="major",
        ingredients=ingredients,
        summary=sentence(summary, "major"),
        mechanism=(
            f"Two doses of {what} {_span(gap)} apart, under the minimum interval of {_span(interval)}:"
            " the second adds to the first before it has cleared."
        ),
        management=management,
        rule=RULE_SHIFT if across else RULE,
        sources=(SOURCE,),
        evidence=evidence,
        knowledge_version=knowledge_version,
        refs=(DOSE_REF + later.id, EARLIER_DOSE_REF + earlier.id),
    )


def _verb(dose: ScheduledDose) -> str:
    return "given" if dose.outcome is not None else "due"


def _span(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
