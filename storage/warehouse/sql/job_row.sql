-- The jobs view's one row for one job of one dataset (no row when the warehouse has no events of it).
-- Parameters: dataset, job.
SELECT *
FROM jobs
WHERE dataset = ? AND job = ?
