"""Actions as data (DESIGN.md "The workflow engine"): every layer of a person's action on a workflow object comes
from its transition — its input schema, its service hook, who may take it now — so a domain writes its
workflow and its services, and gets these once:

- `available_actions(obj, user)`: roles (global and per-object) and the object-level guards in a dry run;
- `run_action(obj, action, user, data)`: the input validated by the transition's schema, then its hook;
- `action_form(obj, t, data)`: the page's form (made from the schema unless the transition names its own);
- `add_action_routes(router, ...)`: `POST …/{id}/{action}` for every action, its body schema in the OpenAPI
  document, If-Match (412 stale_version), Idempotency-Key and the coded errors of the API.
"""

import inspect
from collections.abc import Callable
from typing import Any, get_args

from django import forms
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from cityops.core.errors import CityopsError, IllegalTransition, InvalidInput
from cityops.core.schemas import Schema
from cityops.core.workflow import SYSTEM_ROLE, Transition, expecting_version, transition


class NoteIn(Schema):
    """The input of an action that needs nothing but an optional note."""

    note: str = ""


class ReasonIn(Schema):
    reason: str


class ResultIn(Schema):
    result: str


def action_input(t: Transition) -> type[Schema]:
    return t.input or NoteIn


def person_actions(workflow) -> list[Transition]:
    """One transition per action a person can take (the system's own — sweeps, sensors — are not offered)."""
    seen: dict[str, Transition] = {}
    for t in workflow.transitions:
        if t.roles - {SYSTEM_ROLE} and t.action not in seen:
            seen[t.action] = t
    return list(seen.values())


def may_take(obj, user, t: Transition) -> bool:
    """Dry run of `t` for `user` on `obj` as it is: its roles and every guard that is not about the input."""
    if obj.state not in t.sources:
        return False
    from cityops.core.workflow import actor_roles

    if not (actor_roles(user, obj) & t.roles):
        return False
    for guard in t.guards:
        if getattr(guard, "checks_input", False):
            continue
        try:
            guard(obj, user, {})
        except CityopsError:
            return False
    return True


def available_actions(obj, user) -> list[Transition]:
    """The actions `user` may take on `obj` now — what the page offers, the API would accept (input aside), and
    the tests hold to one another."""
    return [t for t in person_actions(type(obj).workflow) if may_take(obj, user, t)]


def find_action(model, action: str) -> Transition:
    for t in person_actions(model.workflow):
        if t.action == action:
            return t
    raise IllegalTransition(f"未知操作：{action}", f"Unknown action: {action}", code="unknown_action", status=404)


def validated_input(t: Transition, data: dict) -> dict:
    try:
        return action_input(t)(**data).dict()
    except ValidationError as exc:
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
                   for e in exc.errors()]
        raise InvalidInput("请求参数有误，请检查字段格式", "The request has invalid or missing fields", details=details) from None


def run_action(obj, action: str, user, data: dict):
    """Take `action` on `obj` as `user`: the input checked against the transition's schema, then its hook (or
    the bare transition, the input as its params). Returns what the hook returns (the object as it is now)."""
    t = find_action(type(obj), action)
    values = validated_input(t, data)
    if t.hook is not None:
        return t.hook(obj, user, values)
    return transition(obj, action, user, note=str(values.get("note", "")).strip(), params=values)


# --- the page's forms ---------------------------------------------------------------------------------------
FIELD_LABELS = {"note": _("备注"), "reason": _("原因"), "result": _("处置结果"), "answer": _("回复内容")}
LONG_TEXT = {"reason", "result", "description", "minutes", "answer"}  # a note is one line


def _bounds(info) -> dict:
    out = {}
    for m in info.metadata:
        for attr, key in (("ge", "min_value"), ("gt", "min_value"), ("le", "max_value"), ("lt", "max_value")):
            if getattr(m, attr, None) is not None:
                out[key] = getattr(m, attr)
    return out


def _without_none(annotation):
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 and type(None) in get_args(annotation) else annotation


def form_from_schema(schema: type[Schema]) -> type[forms.Form]:
    """A Django form with one field per schema field (text, yes/no, number); richer inputs name their own form."""
    fields = {}
    for name, info in schema.model_fields.items():
        label = FIELD_LABELS.get(name, info.title or name)
        required = info.is_required()
        kind = _without_none(info.annotation)
        if kind is bool:
            fields[name] = forms.BooleanField(label=label, required=False, initial=info.default)
        elif kind in (int, float):
            field_cls = forms.IntegerField if kind is int else forms.FloatField
            fields[name] = field_cls(label=label, required=required, **_bounds(info))
        else:
            widget = forms.Textarea(attrs={"rows": 2}) if name in LONG_TEXT else None
            fields[name] = forms.CharField(label=label, required=required, max_length=4000, widget=widget)
    return type(f"{schema.__name__}Form", (forms.Form,), fields)


def action_form(obj, t: Transition, data=None, *, auto_id: str | None = None) -> forms.Form:
    """The form of action `t` on `obj`'s page. A transition's own form may take the object (`for_object`),
    e.g. to offer the departments with the proposed one chosen."""
    form_cls = t.form or form_from_schema(action_input(t))
    if isinstance(form_cls, str):  # a dotted path: a domain's forms module may import its workflow
        form_cls = import_string(form_cls)
    auto_id = auto_id or f"{t.action}-%s"
    if hasattr(form_cls, "for_object"):
        return form_cls.for_object(obj, data, auto_id=auto_id)
    return form_cls(data, auto_id=auto_id)


def form_problems(form: forms.Form) -> str:
    return "; ".join(
        f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip() for f, e in form.errors.items()
    )


# --- the API ------------------------------------------------------------------------------------------------
def if_match(request: HttpRequest) -> int | None:
    """The version an action is conditional on: `If-Match: "7"` (the object's ETag; W/ and unquoted forms
    accepted), or None for no header or `*`."""
    value = request.headers.get("If-Match", "").strip()
    if not value or value == "*":
        return None
    tag = value.removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 18:
        raise InvalidInput(
            f"If-Match 应为版本号（ETag），如 \"7\"：{value!r}",
            f'If-Match must be the version (its ETag), e.g. "7": {value!r}',
            code="invalid_if_match",
        )
    return int(tag)


def etag(obj) -> str:
    return f'"{obj.version}"'


IDEMPOTENCY_TTL_S = 24 * 3600


def _idempotency_slot(request, subject_type: str, pk, action: str) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > 200:
        raise InvalidInput("Idempotency-Key 过长（最多 200 个字符）", "Idempotency-Key is too long (200 at most)",
                           code="invalid_idempotency_key")
    user = getattr(request.auth, "pk", None)
    return f"idem:{user}:{subject_type}:{pk}:{action}:{key}"


def act_over_api(request, obj, action: str, data: dict, answer: Callable[..., Any]):
    """One action through the API: conditional on If-Match, answered once per Idempotency-Key (a repeat of a
    request that succeeded answers 200 with the object as it is, acting again on nothing)."""
    slot = _idempotency_slot(request, obj._meta.label_lower, obj.pk, action)
    if slot and cache.get(slot):
        return answer(request, obj, 200)
    try:
        with expecting_version(obj, if_match(request)):
            result = run_action(obj, action, request.auth, data)
    except IllegalTransition as exc:
        if exc.code == "stale_version":
            exc.status = 412
        raise
    if slot:
        cache.set(slot, 1, IDEMPOTENCY_TTL_S)
    return answer(request, result, 200)


def add_action_routes(router, model, *, path: str, keys: dict[str, Any], load: Callable, answer: Callable,
                      response: Any, segment: Callable[[str], str] = lambda action: action, name: str = "",
                      skip: frozenset[str] = frozenset()):
    """`POST {path}/{action}` for every action a person can take on `model`: the body is the transition's input
    schema (documented); `load(request, **keys)` finds the object in the user's scope (404 otherwise) and
    `answer(request, obj, status)` renders it. `keys` are the path's parameters and their types. `skip`: actions
    with a route of their own (one that creates the object, e.g. issuing a supervision order)."""
    for t in person_actions(model.workflow):
        if t.action in skip:
            continue
        body_schema = action_input(t)

        def view(request, _action=t.action, **kwargs):
            body = kwargs.pop("body")
            return act_over_api(request, load(request, **kwargs), _action, body.dict(), answer)

        view.__signature__ = inspect.Signature([
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, annotation=v) for k, v in keys.items()),
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body_schema),
        ])
        view.__name__ = f"{name or model._meta.model_name}_{t.action}"
        label = str(t.label or t.action)
        router.post(f"{path}/{segment(t.action)}", response=response, summary=f"{label} / {t.action}",
                    operation_id=view.__name__)(view)
