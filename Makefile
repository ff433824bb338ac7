# Shortcuts for the README's commands (the scripts install what is missing first).
.PHONY: demo test setup bench soak

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench_setup.sh && .venv/bin/python -m bench.run

soak:
	bash scripts/test.sh -m soak tests/e2e/test_e2e_sessions.py
