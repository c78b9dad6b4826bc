"""The label vocabulary, the actor registry and record validation.

Everything here is pure Python (no heavy imports) so that the CLI's `validate` and `add` stay fast.
"""
from __future__ import annotations

import datetime as _dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TENSIONS: tuple[str, ...] = ("low", "medium", "high")
"""Tension labels in ordinal order (low < medium < high); the order is the ClassLabel order."""
STANCES: tuple[str, ...] = ("pro-cooperation", "cautious", "deterrence-seeking")
"""Stance labels, in a fixed order used by every label map, matrix and export."""
ACTOR_SET: tuple[str, ...] = ("present", "absent")
"""The actors task scored as (sentence, actor) pairs over gold and predicted actors: a gold actor is
`present`; C[present, present] = tp, C[present, absent] = fn, C[absent, present] = fp."""
TASKS: tuple[str, ...] = ("stance", "tension", "actors")
ACTOR_KINDS: tuple[str, ...] = ("state", "organisation", "group")

DATASET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
"""Dataset names (`labels/NAME.jsonl`): lower-case letters, digits and '-', not starting with '-'; use fullmatch."""
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))})
"""Device names that Windows will not open as files, whatever the extension."""
RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""Record ids: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128
characters. No ':' (the export joins `id::actor`), no '/', no white space; use fullmatch."""
MAX_TEXT_CHARS = 5_000
"""Longest sentence accepted; the longest real one (labels/, pool/) has 573 characters."""
MAX_FIELD_CHARS = 1_000
"""Longest value accepted in any other string field; the longest real one (a title) has 380."""
MAX_LINE_BYTES = 100_000
"""Longest JSONL line read (label files, predict inputs), checked before parsing it: a record at the
limits above, even with every character escaped, stays well below it."""
URL_SCHEMES = ("http", "https")
REQUIRED_FIELDS: dict[str, type] = {
    "id": str, "text": str, "doc": str, "tension": str, "stances": list, "source": str, "license": str,
}
OPTIONAL_FIELDS: dict[str, type] = {
    "date": str, "speaker": str, "speaker_country": str, "title": str, "url": str, "note": str,
    "selected_by": str, "annotator": str,
}
SELECTED_BY = re.compile(r"^(pool|random|uncertain(:\d+(\.\d+)?)?)$")
"""How the labeller chose a sentence: pool order, random, or uncertainty sampling with the model's margin."""
STANCE_FIELDS = {"actor", "stance", "mention"}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def dataset_name_problem(name: str) -> str | None:
    """Why `name` cannot name a dataset file, or None if it can."""
    if not DATASET_NAME.fullmatch(name):
        return (f"{name!r} is not a dataset name: use 1 to 64 lower-case letters, digits and '-', "
                "starting with a letter or digit (e.g. my-news)")
    if name in WINDOWS_RESERVED:
        return f"{name!r} is a reserved device name on Windows (con, prn, aux, nul, com1-9, lpt1-9): choose another"
    return None


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Lone surrogates, and control characters other than tab, newline and carriage return."""


def string_problem(value: str, max_chars: int = MAX_FIELD_CHARS) -> str | None:
    """Why a string field cannot be stored or exported, or None: too long, lone surrogates (not
    encodable as UTF-8), NUL and other control characters (tab, newline and carriage return are
    white space and allowed)."""
    if len(value) > max_chars:
        return f"is {len(value):,} characters long; the limit is {max_chars:,}"
    if m := _BAD_CHARS.search(value):
        ch, i = m.group(), m.start()
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return f"holds a lone surrogate {ch!r} at character {i + 1}, which is not valid Unicode text"
        return f"holds the control character {ch!r} at character {i + 1}"
    return None


def url_problem(value: str) -> str | None:
    """Why `value` is not an acceptable source URL (absolute http or https, with a host), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError as exc:
        return f"{value!r} is not a URL ({exc})"
    if parts.scheme.lower() not in URL_SCHEMES or not parts.netloc or any(c.isspace() for c in value):
        return f"{value!r} is not an http or https URL (e.g. https://example.org/page)"
    return None


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def _unknown_field(where: str, name: Any) -> tuple[str, str]:
    """The problem for an unknown field; a name that could break the one-line `FILE:LINE: field:`
    form (':', spaces, control characters) is quoted in the message instead."""
    if isinstance(name, str) and _PLAIN_NAME.fullmatch(name):
        return (f"{where}.{name}" if where else name), "is not a known field"
    return (where or "record"), f"{ascii(name)} is not a known field"


def labels_for(task: str) -> tuple[str, ...]:
    """The fixed label order of a task."""
    if task == "stance":
        return STANCES
    if task == "tension":
        return TENSIONS
    if task == "actors":
        return ACTOR_SET
    raise ValueError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    kind: str
    bloc: str
    aliases: tuple[str, ...] = field(default_factory=tuple)


class RegistryError(ValueError):
    """A broken actor registry (`actors.toml`), reported as `FILE:LINE: ACTOR.field: problem`."""


def _registry_line(text: str, key: str) -> int | None:
    """The line that opens `[key]` (or sets `key = ...`) in the registry's TOML text."""
    name = re.escape(key)
    pat = re.compile(rf'^\s*(\[\s*(?:{name}|"{name}"|\'{name}\')\s*\]|(?:{name}|"{name}"|\'{name}\')\s*=)', re.M)
    m = pat.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def load_actors(path: Path) -> dict[str, Actor]:
    """Read the actor registry (TOML, one table per canonical id); RegistryError names file, line and actor."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: registry: invalid UTF-8 (byte {exc.start + 1})") from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        where = f"{path}:{m.group(1)}" if m else str(path)
        detail = msg[:m.start()] + f" (column {m.group(2)})" if m else msg
        raise RegistryError(f"{where}: registry: TOML syntax error: {detail}") from None
    actors: dict[str, Actor] = {}
    for key, val in raw.items():
        line = _registry_line(text, key)
        where = f"{path}:{line}" if line else str(path)
        if not isinstance(val, dict):
            raise RegistryError(f"{where}: {key}: must be a table ([{key}] with name, kind, bloc, aliases)")
        name, kind, bloc, aliases = val.get("name"), val.get("kind"), val.get("bloc", "other"), val.get("aliases", [])
        if name is None:
            raise RegistryError(f"{where}: {key}.name: is missing")
        if not isinstance(name, str) or not name.strip():
            raise RegistryError(f"{where}: {key}.name: must be a non-empty string")
        if kind not in ACTOR_KINDS:
            raise RegistryError(f"{where}: {key}.kind: {kind!r} is not one of {', '.join(ACTOR_KINDS)}")
        if not isinstance(bloc, str):
            raise RegistryError(f"{where}: {key}.bloc: must be a string")
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            raise RegistryError(f"{where}: {key}.aliases: must be a list of non-empty strings")
        actors[key] = Actor(key, name, kind, bloc, tuple(aliases))
    return actors


def normalise_text(text: str) -> str:
    """Case- and white-space-folded text, used to catch the same sentence labelled twice."""
    return " ".join(text.split()).casefold()


def valid_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        if len(value) == 10:
            _dt.date.fromisoformat(value)
        elif len(value) == 7:
            _dt.date.fromisoformat(value + "-01")
    except ValueError:
        return False
    return True


def year_of(date: str | None) -> int | None:
    return int(date[:4]) if date and _DATE.fullmatch(date) else None


def check_record(obj: Any, actors: dict[str, Actor]) -> list[tuple[str, str]]:
    """Every problem with one record, as (field, message) pairs; an empty list means valid."""
    if not isinstance(obj, dict):
        return [("record", "must be a JSON object")]
    problems: list[tuple[str, str]] = []
    for name, typ in REQUIRED_FIELDS.items():
        if name not in obj:
            problems.append((name, "is missing"))
        elif not isinstance(obj[name], typ):
            problems.append((name, f"must be a {typ.__name__}"))
        elif typ is str and not obj[name].strip():
            problems.append((name, "must not be empty"))
    for name, typ in OPTIONAL_FIELDS.items():
        if name in obj and (not isinstance(obj[name], typ) or not obj[name].strip()):
            problems.append((name, f"must be a non-empty {typ.__name__} when present"))
    for name in obj:
        if name not in REQUIRED_FIELDS and name not in OPTIONAL_FIELDS:
            problems.append(_unknown_field("", name))
        elif isinstance(obj[name], str) and obj[name].strip():
            bad = string_problem(obj[name], MAX_TEXT_CHARS if name == "text" else MAX_FIELD_CHARS)
            if bad:
                problems.append((name, bad))
    if isinstance(obj.get("id"), str) and obj["id"].strip() and not RECORD_ID.fullmatch(obj["id"]):
        problems.append(("id", f"{obj['id']!r} is not a valid id: use up to 128 ASCII letters, digits, '.', '_' "
                               "and '-', starting with a letter or digit (no ':', '/' or spaces)"))
    if isinstance(obj.get("url"), str) and obj["url"].strip():
        bad = url_problem(obj["url"])
        if bad:
            problems.append(("url", bad))
    if isinstance(obj.get("tension"), str) and obj["tension"] not in TENSIONS:
        problems.append(("tension", f"{obj['tension']!r} is not one of {', '.join(TENSIONS)}"))
    if isinstance(obj.get("selected_by"), str) and obj["selected_by"].strip() and not SELECTED_BY.fullmatch(obj["selected_by"]):
        problems.append(("selected_by", f"{obj['selected_by']!r} is not pool, random or uncertain[:MARGIN]"))
    if isinstance(obj.get("date"), str) and not valid_date(obj["date"]):
        problems.append(("date", f"{obj['date']!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)"))
    text = obj.get("text") if isinstance(obj.get("text"), str) else ""
    if isinstance(obj.get("stances"), list):
        seen: set[str] = set()
        for k, st in enumerate(obj["stances"]):
            where = f"stances[{k}]"
            if not isinstance(st, dict):
                problems.append((where, "must be an object with actor, stance and optional mention"))
                continue
            for extra in sorted(set(st) - STANCE_FIELDS, key=ascii):
                problems.append(_unknown_field(where, extra))
            actor = st.get("actor")
            if not isinstance(actor, str):
                problems.append((f"{where}.actor", "is missing"))
            elif actor not in actors:
                hint = suggest_actors(actor, actors)
                problems.append((f"{where}.actor", f"unknown actor {actor!r}" + (f" (did you mean {', '.join(hint)}?)" if hint else "")))
            elif actor in seen:
                problems.append((f"{where}.actor", f"{actor} has more than one stance in this sentence"))
            else:
                seen.add(actor)
            if st.get("stance") not in STANCES:
                problems.append((f"{where}.stance", f"{st.get('stance')!r} is not one of {', '.join(STANCES)}"))
            if "mention" in st:
                mention = st["mention"]
                if not isinstance(mention, str) or not mention:
                    problems.append((f"{where}.mention", "must be a non-empty string"))
                elif bad := string_problem(mention):
                    problems.append((f"{where}.mention", bad))
                elif mention not in text:
                    problems.append((f"{where}.mention", f"{mention!r} is not a substring of text"))
    return problems


def suggest_actors(query: str, actors: dict[str, Actor], n: int = 3) -> list[str]:
    """Close registry ids for a mistyped actor, matching ids, names and aliases."""
    import difflib

    names: dict[str, str] = {}
    for a in actors.values():
        for label in (a.id, a.name, *a.aliases):
            names.setdefault(label.casefold(), a.id)
    q = query.casefold()
    prefix = sorted((label for label in names if len(label) >= 3 and (label.startswith(q) or q.startswith(label))),
                    key=lambda label: (label != q, -len(label)))
    hits = prefix + difflib.get_close_matches(q, list(names), n=n * 3, cutoff=0.6)
    out: list[str] = []
    for h in hits:
        if names[h] not in out:
            out.append(names[h])
    return out[:n]
