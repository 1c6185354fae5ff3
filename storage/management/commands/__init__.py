"""`manage.py` commands for the track store and the warehouse."""
