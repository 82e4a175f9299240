"""energy-lake: an AWS data lake for an energy trading company that also runs on a laptop."""

__version__ = "0.1.0"
