"""PyFlink jobs, one folder per lesson concept; shared pieces live in ``common``."""
