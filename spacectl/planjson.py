"""The JSON form of a plan (Terraform's `jsonplan`): the single source of every renderer and of
saved plan files.

`plan_to_dict` contains no secret value: sensitive fields carry neither before nor after, and
secret operations carry only the environment variable's name and the keyed digest.
`plan_from_dict` rebuilds exactly the Plan that was shown, or raises PlanFileError. Operations
are rebuilt from their type hints, so a new operation type needs no code here.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin, get_type_hints

from spacectl import __version__
from spacectl.errors import PlanFileError
from spacectl.operations import ABSENT, JSON, Action, FieldChange, FileAdd, Operation
from spacectl.plan import FORMAT_VERSION, Fingerprint, Plan, PlanHeader, SpaceChange

# An operation's `kind` is the default of its `kind` field: derived, never registered twice.
_OP_TYPES: dict[str, type[Any]] = {
    cls.__dataclass_fields__["kind"].default: cls for cls in get_args(Operation)
}


def _jsonable(value: Any) -> JSON:
    if value is ABSENT:
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value)]
        if "kind" in names:  # an operation: its kind first, as a reader expects
            names = ["kind", *(n for n in names if n != "kind")]
        return {name: _jsonable(getattr(value, name)) for name in names}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # a YAML value of another type (a timestamp with a zone, ...) as text


def field_to_dict(fc: FieldChange) -> dict[str, JSON]:
    data: dict[str, JSON] = {"path": fc.path, "action": fc.action.value}
    if fc.sensitive:
        data["sensitive"] = True
    else:
        if fc.before is not ABSENT:
            data["before"] = _jsonable(fc.before)
        if fc.after is not ABSENT:
            data["after"] = _jsonable(fc.after)
    if fc.reason:
        data["reason"] = fc.reason
    return data


def _fingerprint_to_dict(fp: Fingerprint) -> dict[str, JSON]:
    return {"exists": fp.exists, "sha": fp.sha, **_jsonable(fp.values)}


def plan_to_dict(plan: Plan) -> dict[str, JSON]:
    """The JSON plan (see the module docstring for what it never contains)."""
    header = plan.header
    return {
        "format_version": plan.format_version,
        "spacectl_version": __version__,
        "manifest": header.manifest_path,
        "manifest_digest": header.manifest_digest,
        "endpoint": header.endpoint,
        "created_at": header.created_at,
        "environment": header.environment,
        "summary": plan.counts(),
        "has_changes": not plan.is_empty,
        "warnings": list(plan.warnings),
        "spaces": [
            {
                "id": c.space_id,
                "action": c.action.value,
                "reason": c.reason,
                "sdk": c.sdk,
                "fields": [field_to_dict(fc) for fc in c.fields],
                "operations": [_jsonable(op) for op in c.operations],
                "fingerprint": _fingerprint_to_dict(c.fingerprint),
                "warnings": list(c.warnings),
                "ignored": list(c.ignored),
            }
            for c in plan.changes
        ],
    }


def _field_from_dict(data: Mapping[str, JSON]) -> FieldChange:
    return FieldChange(
        path=data["path"],
        action=Action(data["action"]),
        before=data.get("before", ABSENT),
        after=data.get("after", ABSENT),
        sensitive=bool(data.get("sensitive", False)),
        reason=data.get("reason", ""),
    )


def _from_json(hint: Any, value: JSON) -> Any:
    """A JSON value as the type `hint` declares: dataclasses, tuples, mappings, optionals."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return _from_json(inner, value)
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return tuple(_from_json(get_args(hint)[0], item) for item in value)
    if origin is Mapping or hint is Mapping:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return _dataclass_from_json(hint, value)
    if hint in (str, int, bool) and (type(value) is not hint):
        # "false" must not enable dev mode, nor "0" count as a size.
        raise TypeError(f"expected {hint.__name__}, got {type(value).__name__}")
    return value


def _dataclass_from_json(cls: Any, data: JSON) -> Any:
    if not isinstance(data, Mapping):
        raise TypeError(f"expected an object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    args = {
        f.name: _from_json(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.init and (f.name in data or f.default is dataclasses.MISSING)
    }
    return cls(**args)


def _op_from_dict(data: Mapping[str, JSON]) -> Operation:
    if not isinstance(data, Mapping):
        raise TypeError(f"an operation must be an object, not {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _OP_TYPES:
        raise PlanFileError(f"unknown operation {kind!r} in plan file")
    op: Operation = _dataclass_from_json(_OP_TYPES[kind], data)
    for add in getattr(op, "additions", ()):
        if not isinstance(add, FileAdd) or (add.source is None) == (add.content is None):
            raise PlanFileError("a file in the plan has neither or both of source and content")
    return op


def _fingerprint_from_dict(data: Mapping[str, JSON]) -> Fingerprint:
    if not isinstance(data, Mapping):
        raise TypeError(f"a fingerprint must be an object, not {type(data).__name__}")
    values = {k: v for k, v in data.items() if k not in ("exists", "sha")}
    return Fingerprint(exists=bool(data["exists"]), sha=data.get("sha"), values=values)


def plan_from_dict(data: Mapping[str, JSON]) -> Plan:
    """Rebuild a Plan from `plan_to_dict` output; raises PlanFileError when it is not one."""
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"plan file format {data.get('format_version')!r} is not supported "
            f"(expected {FORMAT_VERSION!r})",
            hint="run `spacectl plan --out FILE` again with this version of spacectl",
        )
    try:
        changes = tuple(
            SpaceChange(
                space_id=s["id"],
                action=Action(s["action"]),
                fields=tuple(_field_from_dict(f) for f in s["fields"]),
                operations=tuple(_op_from_dict(o) for o in s["operations"]),
                fingerprint=_fingerprint_from_dict(s["fingerprint"]),
                sdk=s.get("sdk"),
                warnings=tuple(s.get("warnings", ())),
                reason=s.get("reason", ""),
                ignored=tuple(s.get("ignored", ())),
            )
            for s in data["spaces"]
        )
        header = PlanHeader(
            manifest_path=data["manifest"],
            manifest_digest=data["manifest_digest"],
            endpoint=data["endpoint"],
            created_at=data["created_at"],
            environment=data.get("environment", ""),
        )
        return Plan(changes=changes, header=header)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFileError(f"plan file is damaged or not a spacectl plan ({exc})") from None
