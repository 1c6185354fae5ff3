"""Deterministic dispatch simulator: city, demand, couriers/bikes, GPS noise, pluggable dispatch strategies.

Pure Python with numpy/scipy; no Django imports (the `simulate` management command is the Django edge).
"""
