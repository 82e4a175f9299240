-- Top clients by consumption: sales joined (inner) to the current clients snapshot.
-- Output: client_id, client_name, client_type, transactions, total_kwh, revenue;
-- ordered by total_kwh desc, ties by client_id. LIMIT 10 is the default N; the helper
-- replaces it with the caller's N (a validated int > 0).
WITH sales AS (
  SELECT
    t.entity_id,
    t.quantity_kwh,
    t.total_amount
  FROM transactions AS t
  WHERE t.transaction_type = 'sale'
)
SELECT
  CAST(c.client_id AS varchar) AS client_id,
  CAST(c.client_name AS varchar) AS client_name,
  CAST(c.client_type AS varchar) AS client_type,
  CAST(count(*) AS bigint) AS transactions,
  CAST(sum(s.quantity_kwh) AS decimal(38, 3)) AS total_kwh,
  CAST(sum(s.total_amount) AS decimal(38, 4)) AS revenue
FROM sales AS s
INNER JOIN clients AS c
  ON c.client_id = s.entity_id
GROUP BY c.client_id, c.client_name, c.client_type
ORDER BY total_kwh DESC, client_id
LIMIT 10
