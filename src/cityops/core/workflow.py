"""The workflow engine: one mechanism for every case-like thing (DESIGN.md "The workflow engine").

A workflow is data — states and transitions `(action, from, to, roles, guard, timer)` — and
`transition()` is the only code that changes a state. It locks the row, checks role and guard, writes the
new state and clock, appends a timeline entry and queues side effects on commit; a refusal raises and
changes nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from cityops.core import calendar
from cityops.core.errors import CityopsError, Forbidden, IllegalTransition
from cityops.core.timeline import timeline_append

SYSTEM_ROLE = "system"  # the role of cityops itself (sweeps, IoT rules); actor=None

HOUR = 3600.0

# What a transition does to the clock of the state it enters.
CLOCK_RESTART = "restart"  # a fresh limit from the target state's timer (or no clock if it has none)
CLOCK_KEEP = "keep"  # same clock goes on (e.g. a note that changes state inside one step)
CLOCK_PAUSE = "pause"  # stop counting (挂账 suspension)
CLOCK_RESUME = "resume"  # count again from where it stopped
CLOCK_EXTEND = "extend"  # keep counting, add params["extra_hours"] to the limit (延期)


@dataclass(frozen=True)
class Timer:
    """Limit of a state, in hours of working time (mode "work") or calendar time ("calendar").
    `hours` may be a callable(obj, params) -> hours | None, e.g. the handling limit of the case's category."""

    hours: float | Callable[[Any, dict], float | None]
    mode: str = "work"

    def limit_seconds(self, obj, params: dict) -> float | None:
        hours = self.hours(obj, params) if callable(self.hours) else self.hours
        return None if hours is None else float(hours) * HOUR


@dataclass(frozen=True)
class State:
    code: str
    label: Any
    timer: Timer | None = None
    terminal: bool = False


# A source meaning "every state that is not terminal" (e.g. escalate a dispute from wherever it is).
ANY_OPEN = "*"


def input_guard(guard: Callable[..., None]) -> Callable[..., None]:
    """Marks a guard that checks what the user typed (a reason, a number), not the object or the user: it runs
    when the action is sent, and `available_actions` (which has no input yet) skips it."""
    guard.checks_input = True
    return guard


def at_least(hours: float, *, mode: str = "work", since: str = "state_changed_at", label: str = "") -> Callable:
    """A minimum duration — a floor, not a deadline (a 30-day public comment period, a 7-working-day legality
    review): the guard refuses until `hours` of working (`mode="work"`) or calendar time have passed since the
    object's `since` field (by default: since it entered its state)."""

    def guard(obj, actor, params) -> None:
        start = getattr(obj, since)
        earliest = calendar.add_seconds(start, hours * HOUR, mode)
        if timezone.now() < earliest:
            local = timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M")
            raise refuse(
                f"{label or '该阶段'}须满 {hours:g} {'工作' if mode == 'work' else ''}小时，{local} 后方可办理",
                f"{label or 'This stage'} lasts at least {hours:g} {'working ' if mode == 'work' else ''}hours: "
                f"possible from {local}",
                code="too_early",
            )

    guard.__name__ = f"at_least_{hours:g}h_{mode}"
    return guard


@dataclass(frozen=True)
class Hook:
    """What an action does beyond the state change: a domain service, named by its dotted path and imported
    when first called (a workflow module need not import its services). Called as
    `service(<obj_arg>=obj, actor=actor, **fixed, **input)` with the action's validated input."""

    path: str
    obj_arg: str = "obj"
    fixed: dict = field(default_factory=dict)

    def __call__(self, obj, actor, data: dict):
        module, _, name = self.path.rpartition(".")
        service = getattr(importlib.import_module(module), name)
        return service(**{self.obj_arg: obj, "actor": actor, **self.fixed, **data})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    label: Any = ""
    guards: tuple[Callable[..., None], ...] = ()
    clock: str = CLOCK_RESTART
    timer: Timer | None = None  # overrides the target state's timer for this way in
    # What a person sends with the action (a ninja Schema; the API's body, the page's form) and what it does
    # beyond the state change (a Hook, or any callable(obj, actor, data) -> obj). Without a hook the action is
    # the bare transition with the input as its params (its `note` as the note).
    input: type | None = None
    hook: Callable[[Any, Any, dict], Any] | None = None
    style: str = ""  # how its button looks: primary, danger or plain
    form: type | str | None = None  # a Django form (or its dotted path) when the one made from `input` will not do


@dataclass(frozen=True)
class Escalation:
    """A step on an overdue item: `due(deadline)` says when it is due; the sweep records it once.

    `take=True`: the step is the workflow's own transition named `action`, taken by the system in the sweep's
    transaction (through its hook when it has one, which makes the domain's writes) — e.g. a supervision order
    raised to the next level with a fresh deadline. When no such transition leaves the object's state or a guard
    refuses it, the sweep marks the item `overdue` instead."""

    level: int
    action: str
    label: Any
    due: Callable[[datetime], datetime]
    take: bool = False


def _at_deadline(deadline: datetime) -> datetime:
    return deadline


def _next_workday(deadline: datetime) -> datetime:
    return calendar.next_workday_start(deadline)


def _five_workdays_after_reminder(deadline: datetime) -> datetime:
    return calendar.add_workdays(calendar.next_workday_start(deadline), 5)


# RULES.md §1: overdue at the deadline; reminder (催办) the next working day; notice (通报) 5 working days later.
DEFAULT_ESCALATIONS = (
    Escalation(1, "overdue", "超期", _at_deadline),
    Escalation(2, "remind", "催办", _next_workday),
    Escalation(3, "notice", "通报", _five_workdays_after_reminder),
)


@dataclass
class Workflow:
    name: str
    initial: str
    states: dict[str, State]
    transitions: list[Transition]
    escalations: tuple[Escalation, ...] = DEFAULT_ESCALATIONS
    on_escalate: Callable[[Any, Escalation], None] | None = None
    _index: dict[tuple[str, str], Transition] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        open_states = tuple(code for code, st in self.states.items() if not st.terminal)
        self.transitions = [
            replace(t, sources=open_states) if ANY_OPEN in t.sources else t for t in self.transitions
        ]
        for t in self.transitions:
            if t.target not in self.states:
                raise ValueError(f"{self.name}: {t.action} goes to unknown state {t.target}")
            for source in t.sources:
                if source not in self.states:
                    raise ValueError(f"{self.name}: {t.action} comes from unknown state {source}")
                if (t.action, source) in self._index:
                    raise ValueError(f"{self.name}: two transitions {t.action} from {source}")
                self._index[(t.action, source)] = t
        if self.initial not in self.states:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")

    @property
    def actions(self) -> set[str]:
        return {t.action for t in self.transitions}

    def find(self, action: str, state: str) -> Transition | None:
        return self._index.get((action, state))

    def available(self, obj, actor) -> list[Transition]:
        """Transitions the actor's roles allow from the object's state (global and per-object roles; guards are
        not run — core.actions.available_actions runs them too)."""
        roles = actor_roles(actor, obj)
        return [t for t in self.transitions if obj.state in t.sources and roles & t.roles]


def actor_roles(actor, obj=None) -> frozenset[str]:
    """The actor's global roles, plus the per-object roles the object's model declares and the actor holds on
    this object (`object_roles = {"assigned_mediator": lambda obj, user: obj.mediator_id == user.pk}`)."""
    if actor is None:
        return frozenset({SYSTEM_ROLE})
    roles = frozenset(getattr(actor, "role_codes", frozenset()))
    declared = getattr(type(obj), "object_roles", None) if obj is not None else None
    if declared:
        roles |= {name for name, holds in declared.items() if holds(obj, actor)}
    return roles


def _start_clock(obj, limit_s: float | None, mode: str, now: datetime) -> None:
    obj.clock_mode = mode
    obj.clock_limit_s = limit_s
    obj.clock_used_s = 0.0
    obj.clock_paused_at = None
    obj.overdue = False
    obj.escalation_level = 0
    if limit_s is None:
        obj.clock_started_at = None
        obj.deadline_at = None
    else:
        obj.clock_started_at = now
        obj.deadline_at = calendar.add_seconds(now, limit_s, mode)


def _pause_clock(obj, now: datetime) -> None:
    if obj.clock_started_at and not obj.clock_paused_at:
        obj.clock_used_s += calendar.elapsed_seconds(obj.clock_started_at, now, obj.clock_mode)
        obj.clock_paused_at = now
        obj.clock_started_at = None
        obj.deadline_at = None


def _resume_clock(obj, now: datetime) -> None:
    if obj.clock_paused_at and obj.clock_limit_s is not None:
        obj.clock_paused_at = None
        obj.clock_started_at = now
        remaining = max(0.0, obj.clock_limit_s - obj.clock_used_s)
        obj.deadline_at = calendar.add_seconds(now, remaining, obj.clock_mode)


def _extend_clock(obj, extra_hours: float, now: datetime) -> None:
    if obj.clock_limit_s is None:
        return
    obj.clock_limit_s += extra_hours * HOUR
    if obj.clock_started_at and not obj.clock_paused_at:
        # Re-base the running segment so the deadline is computed from one point.
        obj.clock_used_s += calendar.elapsed_seconds(obj.clock_started_at, now, obj.clock_mode)
        obj.clock_started_at = now
        remaining = max(0.0, obj.clock_limit_s - obj.clock_used_s)
        obj.deadline_at = calendar.add_seconds(now, remaining, obj.clock_mode)
        if obj.clock_used_s <= obj.clock_limit_s:
            obj.overdue = False
            obj.escalation_level = 0


CLOCK_FIELDS = [
    "state",
    "state_changed_at",
    "version",
    "deadline_at",
    "clock_mode",
    "clock_limit_s",
    "clock_used_s",
    "clock_started_at",
    "clock_paused_at",
    "overdue",
    "escalation_level",
]


_EXPECTED: ContextVar[tuple | None] = ContextVar("cityops_expected_version", default=None)


@contextmanager
def expecting_version(obj, version: int | None):
    """Optimistic concurrency around a whole service call: the first transition of `obj` inside the block
    refuses (stale_version) unless `obj` is still at `version` — what an API client's If-Match asks, without
    every service taking an `expected_version` of its own. `version=None` expects nothing."""
    if version is None:
        yield
        return
    token = _EXPECTED.set((obj._meta.label_lower, obj.pk, version))
    try:
        yield
    finally:
        _EXPECTED.reset(token)


def transition(
    obj,
    action: str,
    actor,
    *,
    note: str = "",
    params: dict | Callable[[Any], dict] | None = None,
    apply: Callable[[Any], Iterable[str] | None] | None = None,
    expected_version: int | None = None,
    on_commit: Callable[[Any], None] | None = None,
):
    """Apply `action` to `obj` as `actor` (None = the system). Returns the locked, updated object.

    `params` may be a function of the locked object: what a step decides from the object's own fields (the
    hours an approval grants, who registered what is voided) must come from the row as locked, never from the
    caller's copy, which may be stale.

    `apply(locked_obj)` makes the domain writes that belong to this step (e.g. the department chosen on
    dispatch) and returns the names of the fields it changed; it runs after role and guard checks, inside
    the same transaction. `expected_version` refuses a request built on a stale view of the object.
    """
    workflow = type(obj).workflow
    with transaction.atomic():
        model = type(obj)
        related = model.evaluation_relations()
        rows = model.objects.select_for_update(**({"of": ("self",)} if related else {}))
        locked = (rows.select_related(*related) if related else rows).get(pk=obj.pk)
        params = dict((params(locked) if callable(params) else params) or {})
        t = workflow.find(action, locked.state)
        if action not in workflow.actions:
            raise IllegalTransition(
                f"未知操作：{action}", f"Unknown action: {action}", code="unknown_action", status=404
            )
        pending = _EXPECTED.get()
        if expected_version is None and pending is not None and pending[:2] == (locked._meta.label_lower, locked.pk):
            expected_version = pending[2]
            _EXPECTED.set(None)  # the first transition of the object answers for the caller's view of it
        # A stale view first: the state the caller saw may be why the action looks illegal now.
        if expected_version is not None and expected_version != locked.version:
            raise IllegalTransition(
                "数据已被他人更新，请刷新后重试",
                "The item was changed by someone else; reload and try again",
                code="stale_version",
                details={"expected": expected_version, "current": locked.version},
            )
        if t is None:
            raise IllegalTransition(
                f"当前状态「{locked.state_label()}」不能执行「{action}」",
                f"Action '{action}' is not allowed in state '{locked.state}'",
                details={"state": locked.state, "action": action},
            )
        if not (actor_roles(actor, locked) & t.roles):
            raise Forbidden(
                f"您的角色不能执行「{t.label or action}」",
                f"Your role may not perform '{action}'",
                code="role_not_allowed",
            )
        for guard in t.guards:
            guard(locked, actor, params)

        now = timezone.now()
        from_state = locked.state
        # What evaluation counts, as it stood when the step was due: who held it, where, on time or not.
        stamp = locked.evaluation_stamped = locked.evaluation_stamp(now)
        changed = set(apply(locked) or ()) if apply else set()

        target_state = workflow.states[t.target]
        if t.clock == CLOCK_PAUSE:
            _pause_clock(locked, now)
        elif t.clock == CLOCK_RESUME:
            _resume_clock(locked, now)
        elif t.clock == CLOCK_EXTEND:
            _extend_clock(locked, float(params.get("extra_hours", 0)), now)
        elif t.clock == CLOCK_RESTART:
            timer = t.timer or target_state.timer
            if timer is None:
                _start_clock(locked, None, "work", now)
            else:
                _start_clock(locked, timer.limit_seconds(locked, params), timer.mode, now)
        locked.state = t.target
        if t.target != from_state:
            locked.state_changed_at = now
        locked.version += 1
        locked.save(update_fields=CLOCK_FIELDS + sorted(changed))

        entry_params = {**stamp, **{k: v for k, v in params.items() if not k.startswith("_")}}
        if locked.deadline_at:
            entry_params["deadline_at"] = locked.deadline_at.isoformat()
        timeline_append(
            subject=locked,
            action=action,
            actor=actor,
            from_state=from_state,
            to_state=t.target,
            note=note,
            params=entry_params,
            at=now,
        )
        if on_commit is not None:
            transaction.on_commit(lambda: on_commit(locked))
    return locked


def create_with_timeline(obj, *, actor, action: str = "create", note: str = "", params: dict | None = None,
                         timer_params=None, savepoint: bool = True):
    """Save a new workflow object in its initial state, start its clock and record its birth — together or
    not at all: `obj.save()` and the first entry of its timeline chain in one transaction.
    `savepoint=False` for a caller whose own transaction wraps the call and which lets any error propagate
    (no SAVEPOINT/RELEASE round trips; an error rolls back the caller's whole transaction)."""
    workflow = type(obj).workflow
    now = timezone.now()
    obj.state = workflow.initial
    obj.state_changed_at = now
    timer = workflow.states[workflow.initial].timer
    if timer is not None:
        _start_clock(obj, timer.limit_seconds(obj, timer_params or params or {}), timer.mode, now)
    entry_params = dict(params or {})
    if obj.deadline_at:
        entry_params["deadline_at"] = obj.deadline_at.isoformat()
    with transaction.atomic(savepoint=savepoint):
        obj.save(force_insert=True)
        timeline_append(subject=obj, action=action, actor=actor, to_state=obj.state, note=note,
                        params=entry_params, at=now, new_subject=True)
    return obj


def workflow_models() -> list[type]:
    from cityops.core.models import WorkflowModel

    return [m for m in apps.get_models() if issubclass(m, WorkflowModel) and m.workflow is not None]


def sweep_overdue(*, now: datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """Mark overdue items and record each escalation step once (督办: overdue → 催办 → 通报).

    Safe with several workers: each item is locked and its level re-read before anything is written.
    """
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for model in workflow_models():
        workflow = model.workflow
        if not workflow.escalations:
            continue
        top = max(e.level for e in workflow.escalations)
        terminal = [code for code, s in workflow.states.items() if s.terminal]
        candidates = (
            model.objects.filter(deadline_at__lt=now, clock_paused_at__isnull=True, escalation_level__lt=top)
            .exclude(state__in=terminal)
            .values_list("pk", flat=True)[:limit]
        )
        for pk in list(candidates):
            with transaction.atomic():
                obj = model.objects.select_for_update().filter(pk=pk).first()
                if obj is None or obj.deadline_at is None or obj.clock_paused_at is not None:
                    continue
                due = [e for e in workflow.escalations if e.level > obj.escalation_level and e.due(obj.deadline_at) <= now]
                taken = False
                for esc in sorted(due, key=lambda e: e.level):
                    if esc.take and _take_escalation(obj, esc):
                        counts[esc.action] = counts.get(esc.action, 0) + 1
                        taken = True  # the transition wrote the object and its clock; the next sweep reads them
                        break
                    mark = "overdue" if esc.take else esc.action
                    obj.escalation_level = esc.level
                    obj.overdue = True
                    timeline_append(
                        subject=obj,
                        action=mark,
                        actor=None,
                        actor_name="system:sweep",
                        from_state=obj.state,
                        to_state=obj.state,
                        params={"level": esc.level, "deadline_at": obj.deadline_at.isoformat()},
                        at=now,
                    )
                    counts[mark] = counts.get(mark, 0) + 1
                    if workflow.on_escalate is not None:
                        transaction.on_commit(lambda o=obj, e=esc, w=workflow: w.on_escalate(o, e))
                if due and not taken:
                    model.objects.filter(pk=pk).update(overdue=True, escalation_level=obj.escalation_level)
    return counts


def _take_escalation(obj, esc: Escalation) -> bool:
    """The system takes the transition `esc.action` on the locked `obj` (its hook with no input, or the bare
    transition); False, with nothing written, when the workflow has no such step from the object's state or a
    guard refuses it."""
    t = type(obj).workflow.find(esc.action, obj.state)
    if t is None:
        return False
    try:
        with transaction.atomic():
            if t.hook is not None:
                t.hook(obj, None, {})
            else:
                transition(obj, esc.action, None, params={"level": esc.level})
    except CityopsError:
        return False
    return True


def refuse(message: str, message_en: str, *, code: str, status: int = 409) -> CityopsError:
    """A guard's refusal: raise refuse(...) inside a guard."""
    return CityopsError(message, message_en, code=code, status=status)
