"""The sync API: agents push their cells and pull what is in their scope."""
