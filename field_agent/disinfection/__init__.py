"""The agent's disinfection area."""
