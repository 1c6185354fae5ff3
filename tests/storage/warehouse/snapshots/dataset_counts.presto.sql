WITH events AS (
  SELECT
    dataset,
    COUNT(DISTINCT job) AS jobs,
    COUNT(*) AS events
  FROM job_events
  GROUP BY
    dataset
), round_counts AS (
  SELECT
    dataset,
    COUNT(*) AS rounds
  FROM rounds
  GROUP BY
    dataset
), candidate_counts AS (
  SELECT
    dataset,
    COUNT(*) AS candidates
  FROM candidates
  GROUP BY
    dataset
), datasets AS (
  SELECT
    dataset
  FROM events
  UNION
  SELECT
    dataset
  FROM round_counts
  UNION
  SELECT
    dataset
  FROM candidate_counts
)
SELECT
  d.dataset,
  COALESCE(e.jobs, 0) AS jobs,
  COALESCE(e.events, 0) AS events,
  COALESCE(r.rounds, 0) AS rounds,
  COALESCE(c.candidates, 0) AS candidates
FROM datasets AS d
LEFT JOIN events AS e
  ON e.dataset = d.dataset
LEFT JOIN round_counts AS r
  ON r.dataset = d.dataset
LEFT JOIN candidate_counts AS c
  ON c.dataset = d.dataset
ORDER BY
  d.dataset
