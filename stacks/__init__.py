"""CDK stacks of energy-lake: storage, catalog, ETL, analytics (and governance, warehouse)."""
