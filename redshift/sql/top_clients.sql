-- Top clients by consumption: sales joined (inner) to the current clients snapshot.
-- Output: client_id, client_name, client_type, transactions, total_kwh, revenue; ordered by
-- total_kwh desc, ties by client_id. LIMIT 10 is the default N; the helper sets the caller's N
-- (a validated int > 0). client_name is PII: the Spectrum role may read it, Lake Formation
-- analysts may not (their grant excludes it).
WITH sales AS (
  SELECT
    t.entity_id,
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
  c.client_id,
  c.client_name,
  c.client_type,
  COUNT(*) AS transactions,
  SUM(s.quantity_kwh) AS total_kwh,
  SUM(s.total_amount) AS revenue
FROM sales AS s
INNER JOIN clients AS c
  ON c.client_id = s.entity_id
GROUP BY c.client_id, c.client_name, c.client_type
ORDER BY total_kwh DESC, client_id
LIMIT 10
