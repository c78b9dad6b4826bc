"""Inter-annotator agreement from `labels/agreement/`, and the human-ceiling row.

`first.jsonl` holds the first annotation of the sample exactly as made (before adjudication),
`second.jsonl` the independent second annotation. Each line is `{"id", "skip": reason}` or
`{"id", "tension", "stances"}`. The figures are reported as they come out: never tuned.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..data import jsonl
from ..scoring import metrics
from ..data.schema import STANCES, TENSIONS
from ..data.store import LabelError, labels_dir, load_records
from ..data.tasks import encode_set, scored_pairs

FIRST, SECOND = "first.jsonl", "second.jsonl"


def _annotation_problem(obj: Any) -> str | None:
    """Why one annotation line cannot be used, as `field: message`, or None."""
    if not isinstance(obj, dict):
        return "record: must be a JSON object"
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        return "id: is missing"
    if "skip" in obj:
        return None
    if obj.get("tension") not in TENSIONS:
        return f"tension: {obj.get('tension')!r} is not one of {', '.join(TENSIONS)}"
    stances = obj.get("stances", [])
    if not isinstance(stances, list):
        return "stances: must be a list"
    for k, st in enumerate(stances):
        if not isinstance(st, dict) or not isinstance(st.get("actor"), str):
            return f"stances[{k}].actor: is missing"
        if st.get("stance") not in STANCES:
            return f"stances[{k}].stance: {st.get('stance')!r} is not one of {', '.join(STANCES)}"
    return None


def read_annotation(path: Path) -> dict[str, dict[str, Any]]:
    """Annotations by id; LabelError with every unreadable line as `FILE:LINE: field: message`."""
    out, problems = {}, []
    for n, obj, bad in jsonl.read(path):
        bad = bad or _annotation_problem(obj)
        if bad:
            problems.append(f"{path}:{n}: {bad}")
        else:
            out[obj["id"]] = obj
    if problems:
        raise LabelError(problems)
    return out


def _stance_map(a: dict[str, Any]) -> dict[str, str]:
    return {s["actor"]: s["stance"] for s in a.get("stances", [])}


def krippendorff_alpha(a: list[int], b: list[int], level: str) -> float:
    import krippendorff

    if len(set(a) | set(b)) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement=level))


def _pairwise(a: list[str], b: list[str], labels: tuple[str, ...]) -> dict[str, Any]:
    from sklearn.metrics import cohen_kappa_score

    C = metrics.confusion(a, b, labels)
    both = np.diagonal(C)
    per_class = {lab: float(2 * both[i] / (C[i].sum() + C[:, i].sum())) if (C[i].sum() + C[:, i].sum()) else None
                 for i, lab in enumerate(labels)}
    return {"n": len(a), "observed_agreement": float(np.trace(C) / C.sum()) if C.sum() else None,
            "cohen_kappa": float(cohen_kappa_score(a, b, labels=list(labels))) if a else None,
            "per_class_agreement": per_class, "confusion": {"labels": list(labels), "rows": "first", "columns": "second",
                                                            "matrix": C.tolist()}}


def agreement(labels: str | Path | None = None) -> dict[str, Any]:
    """Agreement figures between the first and second annotations of the sample."""
    folder = labels_dir(labels) / "agreement"
    first, second = read_annotation(folder / FIRST), read_annotation(folder / SECOND)
    ids = sorted(set(first) & set(second))
    skip = Counter(("skip" in first[i], "skip" in second[i]) for i in ids)
    both = [i for i in ids if "skip" not in first[i] and "skip" not in second[i]]
    ta = [first[i]["tension"] for i in both]
    tb = [second[i]["tension"] for i in both]
    tension = _pairwise(ta, tb, TENSIONS)
    ia = [TENSIONS.index(x) for x in ta]
    ib = [TENSIONS.index(x) for x in tb]
    tension["krippendorff_alpha_ordinal"] = krippendorff_alpha(ia, ib, "ordinal")
    tension["krippendorff_alpha_nominal"] = krippendorff_alpha(ia, ib, "nominal")
    inter = n_a = n_b = 0
    pa, pb = [], []
    for i in both:
        ma, mb = _stance_map(first[i]), _stance_map(second[i])
        inter += len(set(ma) & set(mb))
        n_a += len(ma)
        n_b += len(mb)
        for actor in sorted(set(ma) & set(mb)):
            pa.append(ma[actor])
            pb.append(mb[actor])
    stance = _pairwise(pa, pb, STANCES)
    stance["actor_set_f1"] = 2 * inter / (n_a + n_b) if (n_a + n_b) else None
    stance["actors_first"], stance["actors_second"], stance["actors_both"] = n_a, n_b, inter
    stance["krippendorff_alpha_nominal"] = krippendorff_alpha([STANCES.index(x) for x in pa], [STANCES.index(x) for x in pb], "nominal")
    return {"sample": len(ids), "both_labelled": len(both),
            "skips": {"both": skip[(True, True)], "first_only": skip[(True, False)], "second_only": skip[(False, True)]},
            "skip_agreement": (skip[(True, True)] + skip[(False, False)]) / len(ids) if ids else None,
            "tension": tension, "stance": stance}


def human_records(labels: str | Path | None = None) -> list[dict[str, Any]]:
    """The second annotator scored against adjudicated gold with the models' metrics (the ceiling).

    Tension and actors: every gold sentence of the sample the second annotator labelled (actors:
    the second annotator's actor set against the gold set). Stance: every gold
    (sentence, actor) pair the second annotator also gave a stance; coverage is recorded.
    """
    import time

    from ..models.artifacts import versions
    from ..scoring.evaluation import SCHEMA_VERSION, git_commit
    from ..data.store import fingerprint

    lab = labels_dir(labels)
    second = read_annotation(lab / "agreement" / SECOND)
    gold = {r.id: r for r in load_records(lab)}
    out = []
    for task in ("stance", "tension", "actors"):
        triples: list[tuple[str, str, str]] = []  # (gold, second annotator, document)
        gold_pairs = 0
        for i, ann in sorted(second.items()):
            if i not in gold:
                continue
            g = gold[i]
            if task == "actors":  # the actor sets of the sentences the second annotator labelled
                if "skip" not in ann:
                    triples.append((encode_set([s["actor"] for s in g["stances"]]), encode_set(list(_stance_map(ann))), g["doc"]))
                continue
            if task == "tension":
                if "skip" not in ann:
                    triples.append((g["tension"], ann["tension"], g["doc"]))
                continue
            mine = _stance_map(ann)
            gold_pairs += len(g["stances"])
            triples += [(s["stance"], mine[s["actor"]], g["doc"]) for s in g["stances"] if s["actor"] in mine]
        y_true, y_pred, docs = (list(col) for col in zip(*triples)) if triples else ([], [], [])
        rep = metrics.report(task, *scored_pairs(task, y_true, y_pred, docs))
        rep["n_test"] = len(y_true)
        out.append({"schema_version": SCHEMA_VERSION, "task": task, "split": "document", "model": "human",
                    "data_fingerprint": fingerprint(lab), "evaluated_on": "agreement sample (labels/agreement/second.jsonl vs gold)",
                    "coverage": (len(triples) / gold_pairs) if task == "stance" and gold_pairs else None,
                    "git_commit": git_commit(), "versions": versions(),
                    "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    **rep})
    return out
