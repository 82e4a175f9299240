-- Monthly price trend: sales by UTC calendar month and energy type.
-- Output: month (first day of the month), energy_type, transactions, total_kwh,
-- min_price_per_kwh, max_price_per_kwh, avg_price_per_kwh (volume-weighted:
-- sum(price_per_kwh * quantity_kwh) / sum(quantity_kwh)); ordered by month, energy_type.
WITH sales AS (
  SELECT
    CAST(DATE_TRUNC('month', t.transaction_date) AS DATE) AS sale_month,
    t.energy_type,
    t.quantity_kwh,
    t.price_per_kwh
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
  s.sale_month AS month,
  s.energy_type,
  COUNT(*) AS transactions,
  SUM(s.quantity_kwh) AS total_kwh,
  MIN(s.price_per_kwh) AS min_price_per_kwh,
  MAX(s.price_per_kwh) AS max_price_per_kwh,
  CAST(SUM(s.price_per_kwh * s.quantity_kwh) AS DOUBLE PRECISION)
    / CAST(SUM(s.quantity_kwh) AS DOUBLE PRECISION) AS avg_price_per_kwh
FROM sales AS s
GROUP BY s.sale_month, s.energy_type
ORDER BY month, energy_type
