"""Experiments: definitions, metric SQL, the statistics engine and the `simulate` command."""
