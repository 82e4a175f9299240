"""Pure transforms: DataFrame in, DataFrame out. No I/O, no session state."""
