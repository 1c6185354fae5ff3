-- The jobs view's rows for jobs created in one city on one UTC day ('YYYY-MM-DD').
-- Parameters: dataset, city, day, day. The day's bounds are computed as whole days since the epoch, so no
-- session time zone can shift them. {order} is an identifier slot filled from the query's whitelist.
SELECT *
FROM jobs
WHERE
    dataset = ?
    AND city = ?
    AND created_ts >= date_diff('day', DATE '1970-01-01', CAST(? AS DATE)) * 86400000
    AND created_ts < (date_diff('day', DATE '1970-01-01', CAST(? AS DATE)) + 1) * 86400000
ORDER BY {order} NULLS LAST, job
