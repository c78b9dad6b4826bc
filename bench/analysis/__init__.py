"""The analysis stage: annotate, posture_plots, postures."""
