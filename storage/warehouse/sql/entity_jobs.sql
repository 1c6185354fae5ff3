-- The jobs one entity was assigned, accepted or delivered, first touched first.
-- Parameters: dataset, entity.
SELECT
    dataset,
    job,
    min(city) AS city,
    min(ts) AS first_ts,
    max(ts) AS last_ts,
    count_if(type = 'job_assigned') > 0 AS assigned,
    count_if(type = 'job_accepted') > 0 AS accepted,
    count_if(type = 'job_delivered') > 0 AS delivered
FROM job_events
WHERE dataset = ? AND entity = ? AND type IN ('job_assigned', 'job_accepted', 'job_delivered')
GROUP BY dataset, job
ORDER BY first_ts, job
