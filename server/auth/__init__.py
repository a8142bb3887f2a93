"""Accounts, roles, scopes, sessions for pages and device tokens for sync."""
