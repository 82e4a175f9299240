-- Energy sold by type: sales grouped by the energy type sold (Redshift over Spectrum).
-- Output: energy_type, transactions, total_kwh, revenue, avg_price_per_kwh (= revenue / total_kwh);
-- ordered by total_kwh desc. Tables are the curated ones; the helper qualifies them with the
-- external schema. The :start_* / :end_* conjuncts are the optional date range (UTC days, both
-- inclusive): the helper drops those of a bound not given and binds the rest as Data API
-- parameters. year/month/day are the partitions: the year bounds and the day key prune them.
WITH sales AS (
  SELECT
    t.energy_type,
    t.quantity_kwh,
    t.total_amount
  FROM transactions AS t
  WHERE t.transaction_type = 'sale'
    AND t.year >= CAST(:start_year AS INTEGER)
    AND t.year * 10000 + t.month * 100 + t.day >= CAST(:start_day AS INTEGER)
    AND t.transaction_date >= CAST(:start_time AS TIMESTAMP)
    AND t.year <= CAST(:end_year AS INTEGER)
    AND t.year * 10000 + t.month * 100 + t.day <= CAST(:end_day AS INTEGER)
    AND t.transaction_date < CAST(:end_time AS TIMESTAMP)
)
SELECT
  s.energy_type,
  COUNT(*) AS transactions,
  SUM(s.quantity_kwh) AS total_kwh,
  SUM(s.total_amount) AS revenue,
  CAST(SUM(s.total_amount) AS DOUBLE PRECISION) / CAST(SUM(s.quantity_kwh) AS DOUBLE PRECISION)
    AS avg_price_per_kwh
FROM sales AS s
GROUP BY s.energy_type
ORDER BY total_kwh DESC, energy_type
