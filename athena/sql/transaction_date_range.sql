-- The optional date range every analysis applies to its scan of transactions (alias t).
-- The helper keeps the conjuncts whose parameters are given (start and/or end), appends them
-- to the analysis' WHERE, and binds the values as positional parameters (never string-built).
--
-- Semantics: transaction_date's UTC calendar day between start and end, both inclusive:
--   start_time = start 00:00:00, end_time = (end + 1 day) 00:00:00 (exclusive).
-- Pruning: year/month/day are the partitions of transaction_date's UTC day. The row
-- comparisons prune exact days on both engines (DuckDB prunes hive files on them; Athena
-- evaluates expressions over partition columns only against each partition). The plain
-- bounds are there for every planner, Glue's GetPartitions filter included: `year` always,
-- `month` when both ends fall in one year (first_month/last_month are bound only then) and
-- `day` when both fall in one month. The transaction_date bounds are simple column ranges
-- (exact semantics, and Parquet row-group statistics can skip).
SELECT *
FROM transactions AS t
WHERE t.year >= :start_year
  AND (t.year, t.month, t.day) >= (:start_year, :start_month, :start_day)
  AND t.transaction_date >= :start_time
  AND t.year <= :end_year
  AND (t.year, t.month, t.day) <= (:end_year, :end_month, :end_day)
  AND t.transaction_date < :end_time
  AND t.month BETWEEN :first_month AND :last_month
  AND t.day BETWEEN :first_day AND :last_day
