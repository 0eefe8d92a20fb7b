"""Environments (`environments:` and `--env NAME`): the manifest's Spaces under other names,
with overrides of any Space field, resolved by the loader into an ordinary `Manifest`.

An environment is applied in two steps around the loader's usual resolution, so nothing after
the loader knows environments exist:
1. `overlay`: each entry of `spaces:` gets the environment's `overrides`, then its own entry in
   the environment's `spaces:`, on top (variables, secrets and card merge key by key, as with
   `defaults`; any other field is replaced). `defaults` still fill what none of them sets.
2. `rename`: each resolved Space gets the environment's owner and name pattern
   (`{name}-staging`).

Every problem is reported through the loader's collector at the position it was written
(`FILE:LINE:COL`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from spacectl.errors import ManifestError
from spacectl.manifest import (
    EntryFields,
    EnvironmentEntry,
    ManifestFile,
    SpaceEntry,
    SpaceSpec,
)

Loc = tuple[str | int, ...]
AddProblem = Callable[[str, Loc], None]
_MERGED = ("variables", "secrets", "card")
# Fields only a running Space has (the loader's rule for static Spaces, said where it is broken).
_NOT_ON_STATIC = ("hardware", "sleep_time", "dev_mode")


def environment_sections(doc: Mapping[Any, Any]) -> Iterator[tuple[Loc, Any]]:
    """The raw entries of every environment (its `overrides` and each of its `spaces`), for the
    checks the loader runs on the document before the models see it (literal secrets)."""
    environments = doc.get("environments")
    if not isinstance(environments, dict):
        return
    for name, env in environments.items():
        if not isinstance(env, dict):
            continue
        yield ("environments", name, "overrides"), env.get("overrides")
        spaces = env.get("spaces")
        if isinstance(spaces, dict):
            for key, entry in spaces.items():
                yield ("environments", name, "spaces", key), entry


def environment_of(parsed: ManifestFile, name: str, filename: str) -> EnvironmentEntry:
    """The environment `--env name` chooses; a ManifestError naming those defined otherwise."""
    defined = parsed.environments or {}
    if name not in defined:
        known = ", ".join(sorted(defined)) or "none"
        raise ManifestError(
            f"--env {name}: {filename} defines no such environment (defined: {known})",
            hint="add it under `environments:`, or run without --env",
        )
    return defined[name]


def overlay(
    parsed: ManifestFile,
    name: str,
    add: AddProblem,
    check_entry: Callable[[EntryFields, Loc], None],
    number_text: Callable[[Loc, float], str | None],
) -> ManifestFile:
    """`parsed` with environment `name`'s overrides laid over each entry of `spaces:`."""
    env = (parsed.environments or {})[name]
    base: Loc = ("environments", name)
    if "{name}" not in env.name and env.owner is None:
        add(
            "The pattern must contain {name} (or the environment set another owner): "
            "otherwise its Spaces would be the manifest's own.",
            (*base, "name"),
        )
    elif "{" in env.name.replace("{name}", ""):
        add("Only {name} may appear in braces in the name pattern.", (*base, "name"))
    layers: list[tuple[Loc, EntryFields]] = []
    if env.overrides is not None:
        layers.append(((*base, "overrides"), env.overrides))
    per_space = {key: entry for key, entry in (env.spaces or {}).items() if entry is not None}
    for key in env.spaces or {}:
        if key not in parsed.spaces:
            add(f"No Space '{key}' in `spaces:` to override.", (*base, "spaces", key))
    for loc, entry in [*layers, *(((*base, "spaces", k), e) for k, e in per_space.items())]:
        check_entry(entry, loc)
    default_sdk = parsed.defaults.sdk if parsed.defaults else None
    spaces: dict[str, SpaceEntry | None] = {}
    for key, maybe_entry in parsed.spaces.items():
        own = list(layers)
        if key in per_space:
            own.append(((*base, "spaces", key), per_space[key]))
        spaces[key] = _laid_over(maybe_entry or SpaceEntry(), default_sdk, own, add, number_text)
    return parsed.model_copy(update={"spaces": spaces})


def _laid_over(
    entry: SpaceEntry,
    default_sdk: str | None,
    layers: list[tuple[Loc, EntryFields]],
    add: AddProblem,
    number_text: Callable[[Loc, float], str | None],
) -> SpaceEntry:
    data = entry.model_dump(exclude_unset=True)
    sdks = [default_sdk, data.get("sdk"), *(layer.sdk for _, layer in layers)]
    static = [sdk for sdk in sdks if sdk is not None][-1:] == ["static"]
    for loc, layer in layers:
        values = layer.model_dump(exclude_unset=True)
        if isinstance(values.get("variables"), dict):
            # Numbers keep the text written in the environment (`1.10`), as in `spaces:`.
            values["variables"] = {
                k: (number_text((*loc, "variables", k), v) or str(v))
                if isinstance(v, (int, float)) and not isinstance(v, bool)
                else v
                for k, v in values["variables"].items()
            }
        for field in [f for f in values if static and f in _NOT_ON_STATIC]:
            if values.pop(field) is not None and loc[2] == "spaces":
                # Said of this Space: wrong; said of every Space: not meant for a static one.
                add(f"A static Space has no {field.replace('_', ' ')}.", (*loc, field))
        data = layered(data, values)
    return SpaceEntry.model_validate(data)


def layered(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Entry fields as plain data, each layer winning over the ones before: variables, secrets
    and card merge key by key, any other field is replaced (`null` included)."""
    data: dict[str, Any] = {}
    for layer in layers:
        for field, value in layer.items():
            if field in _MERGED and isinstance(value, Mapping) and data.get(field) is not None:
                data[field] = {**data[field], **value}
            else:
                data[field] = value
    return data


def rename(
    specs: list[SpaceSpec],
    parsed: ManifestFile,
    name: str,
    add: AddProblem,
    name_problem: Callable[[str, str], str],
) -> list[SpaceSpec]:
    """The resolved Spaces under the environment's owner and name pattern."""
    env = (parsed.environments or {})[name]
    loc: Loc = ("environments", name)
    if env.owner is not None:
        add(name_problem(env.owner, "owner"), (*loc, "owner"))
    seen: dict[str, str] = {}
    out = []
    for spec in specs:
        new_name = env.name.replace("{name}", spec.name)
        problem = name_problem(new_name, "Space name")
        if problem:
            add(f"{problem[:-1]} (for Space '{spec.id}').", (*loc, "name"))
            continue
        space_id = f"{env.owner or spec.owner}/{new_name}"
        if space_id.lower() in seen:
            add(
                f"Space '{spec.id}' becomes '{space_id}', as '{seen[space_id.lower()]}' does.",
                (*loc, "name"),
            )
        seen[space_id.lower()] = spec.id
        out.append(spec.model_copy(update={"id": space_id}))
    return out
