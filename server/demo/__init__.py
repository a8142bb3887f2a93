"""The demo: a seeded community served with one field agent (`lastmeter demo`)."""
