"""The agent's syncing area."""
