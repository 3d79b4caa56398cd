"""Example module: Beanie documents in models.py, served over HTTP."""
