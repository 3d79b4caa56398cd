"""Built-in module: users, logins, refresh tokens and API keys (see docs/auth.md)."""
