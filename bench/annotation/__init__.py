"""The annotation stage: active, adjudication, agreement, labeller, labelling."""
