"""The data stage: features, gazetteer, hf, importing, jsonl, markdown, outputs, pool, rows, schema, sentences, splits, stats, store, tasks."""
