-- Every dataset's jobs among up to eight ids (a search for a bare id tries it under each job kind):
-- the first and last event and how many events each has.
-- Parameters: job1 … job8.
SELECT dataset, job, min(ts) AS created_ts, max(ts) AS last_ts, count(*) AS events
FROM job_events
WHERE job IN (?, ?, ?, ?, ?, ?, ?, ?)
GROUP BY dataset, job
ORDER BY dataset, job
