# The two commands a fresh machine needs:
#   make demo   run the main job (photo3d demo) on the bundled example, offline
#   make test   run the test suite on CPU
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test setup bench clean

setup:
	@scripts/setup.sh

demo: setup
	$(BIN)/photo3d demo -o outputs/demo

test:
	@scripts/setup.sh --system-deps
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/losses.py
	$(BIN)/python benchmarks/train.py --threads 2
	$(BIN)/python benchmarks/builder.py

clean:
	rm -rf outputs .pytest_cache
