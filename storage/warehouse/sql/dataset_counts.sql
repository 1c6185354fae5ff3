-- Per dataset: distinct jobs and events (job_events), dispatch rounds and round candidates.
-- Parameters: none.
WITH events AS (
    SELECT dataset, count(DISTINCT job) AS jobs, count(*) AS events
    FROM job_events
    GROUP BY dataset
),
round_counts AS (
    SELECT dataset, count(*) AS rounds
    FROM rounds
    GROUP BY dataset
),
candidate_counts AS (
    SELECT dataset, count(*) AS candidates
    FROM candidates
    GROUP BY dataset
),
datasets AS (
    SELECT dataset FROM events
    UNION
    SELECT dataset FROM round_counts
    UNION
    SELECT dataset FROM candidate_counts
)
SELECT
    d.dataset,
    coalesce(e.jobs, 0) AS jobs,
    coalesce(e.events, 0) AS events,
    coalesce(r.rounds, 0) AS rounds,
    coalesce(c.candidates, 0) AS candidates
FROM datasets AS d
LEFT JOIN events AS e ON e.dataset = d.dataset
LEFT JOIN round_counts AS r ON r.dataset = d.dataset
LEFT JOIN candidate_counts AS c ON c.dataset = d.dataset
ORDER BY d.dataset
