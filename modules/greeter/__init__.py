"""Example module: a route, a service, settings and a hook, talking through the bus."""
