"""A plain scikit-learn model trained on `stance-bench export` output, answering the test inputs.

It knows nothing of the `bench` package: it reads the exported Hugging Face dataset with
`datasets.load_dataset(DIR, TASK)`, fits a pipeline on the `train` side, and writes one line per test
input, `{"id": ..., "prediction": LABEL, "probabilities": {LABEL: p}}`, for `stance-bench score`.
The test inputs are the export's `test` side with its labels dropped, or a file written by
`stance-bench test-inputs` (`--inputs`); both carry the same ids.

Two pipelines reproduce registered models exactly, so their scores equal the registered model's:
`majority` (DummyClassifier(most_frequent)) and `tfidf-lr-blind` (word 1-2-gram TF-IDF + logistic
regression, C as chosen by `stance-bench train`, see the model's manifest `params`).

    stance-bench export /tmp/export
    python examples/sklearn_export.py /tmp/export --task tension --pipeline tfidf-lr-blind --C 3 -o /tmp/preds.jsonl
    stance-bench score /tmp/preds.jsonl --task tension --split document --name my-sklearn
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def pipeline(name: str, C: float, seed: int = 0) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    if name == "majority":
        return DummyClassifier(strategy="most_frequent")
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed)
    return Pipeline([("features", ColumnTransformer([("word", words, "text")])), ("clf", clf)])


def read_inputs(path: Path) -> Any:
    import pandas as pd

    return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export", type=Path, help="a folder written by `stance-bench export`")
    ap.add_argument("--task", required=True, choices=["stance", "tension"])
    ap.add_argument("--pipeline", default="tfidf-lr-blind", choices=["majority", "tfidf-lr-blind"])
    ap.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the logistic regression")
    ap.add_argument("--inputs", type=Path, help="test inputs from `stance-bench test-inputs` (default: the export's test side)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)

    import datasets

    dd = datasets.load_dataset(str(args.export), args.task)
    names = dd["train"].features["label"].names
    train = dd["train"].to_pandas()
    y = [names[i] for i in train["label"]]  # label names, so the classes sort as the registered model's do
    test = read_inputs(args.inputs) if args.inputs else dd["test"].remove_columns(["label"]).to_pandas()
    model = pipeline(args.pipeline, args.C).fit(train, y)
    pred, proba = model.predict(test), model.predict_proba(test)
    classes = [str(c) for c in model.classes_]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        for i, id_ in enumerate(test["id"]):
            p = dict(zip(classes, (float(v) for v in proba[i])))
            out.write(json.dumps({"id": id_, "prediction": str(pred[i]),
                                  "probabilities": {n: p.get(n, 0.0) for n in names}}) + "\n")
    print(f"wrote {len(test)} predictions to {args.output}")
    return args.output


if __name__ == "__main__":
    main()
