"""The scoring stage: cards, evaluation, leaderboard, metrics, plots, recording, submission."""
