# Shortcuts for those who have make; the README's commands are `python3 dev.py demo|test`.
PY ?= python3

.PHONY: demo test bench fuzz-nightly load
demo:
	$(PY) dev.py demo

test:
	$(PY) dev.py test

bench:
	$(PY) dev.py test --co -q >/dev/null
	.venv/bin/python bench/merge.py

# Nightly: schemathesis with 500 examples per API operation (CI runs 20).
fuzz-nightly:
	LASTMETER_FUZZ_EXAMPLES=500 $(PY) dev.py test tests/fuzz

# Load: 200 laptops x 300 checks syncing and 200 owners voting at once (docs/benchmarks.md).
load:
	$(PY) dev.py test --co -q >/dev/null
	.venv/bin/python bench/load.py
