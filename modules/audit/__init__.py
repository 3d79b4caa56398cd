"""Example module: listens to every application event and serves the most recent ones."""
