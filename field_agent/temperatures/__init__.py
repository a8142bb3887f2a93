"""The agent's temperatures area."""
