"""Reconstruction of what happened, pure: no Django, no storage backends, only the stores' value types.

- `lifecycle`: a job's times, waybills and durations against its promise;
- `rounds`: the rounds a job was in, their candidates, exclusions and decision, reviewed against the facts;
- `flow`: a job's events split into lifecycle and rounds, with the entities involved;
- `anomalies`: GPS anomaly flags per fix and the anomalies a person reads;
- `entity`: an entity over a window — states and jobs touched;
- `snapshot`: the last fix of each entity and the open jobs at a time;
- `thinning`: one fix per entity per interval for overviews.
"""
