# The two commands of the README. Both install what is missing first (Debian packages and
# a virtual environment in .venv), so they work on a fresh Debian machine.
.PHONY: demo test setup bench

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench: setup
	.venv/bin/python -m bench.run
