"""Example module: a route starts a task; the worker runs it as the caller, with progress."""
