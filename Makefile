# One task runner. Every target bootstraps .venv itself from the lock file and reinstalls
# only when pyproject.toml or the lock changed, so `make lab` and `make test` are the only set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/lock.txt
LAB_PORT ?= 8888
LAB_ARGS ?=
SUPERNODES ?= 3
SIM_SUPERNODES ?= 10
FEDERATION_ARGS ?=
PASSES ?= 10
# Jupyter refuses to start as root unless told; containers and CI often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab lock test lint course fast-course data bench soak build federation capstone flower-sim clean-venv

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

lock: $(STAMP)  ## regenerate requirements/lock.txt from pyproject.toml (every platform, Python 3.11)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --prerelease disallow \
		-c requirements/constraints.txt -o $(LOCK)

# No news pop-up and no update check (lab/overrides.json sets the defaults of the settings
# behind them): nothing to dismiss, no call to the outside.
lab: $(STAMP)  ## start JupyterLab on the course (127.0.0.1)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser \
		--ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		--LabApp.app_settings_dir="$(CURDIR)/lab" \
		--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
		$(ROOT_FLAG) $(LAB_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint  ## ruff, notebooks/ in sync with solutions/, then pytest (units and every notebook, fast mode)
	$(BIN)/ppml build --check
	$(BIN)/python -m pytest

build: $(STAMP)  ## regenerate notebooks/ from solutions/
	$(BIN)/ppml build

course: $(STAMP)  ## execute every solution notebook in full mode; table of times and headlines; executed copies in runs/full (SAVE=dir to change)
	$(BIN)/ppml run --save $(or $(SAVE),runs/full)

fast-course: $(STAMP)
	$(BIN)/ppml run --fast --save $(or $(SAVE),runs/fast)

data: $(STAMP)  ## prefetch every dataset into PPML_DATA_DIR (or the cache dir)
	$(BIN)/ppml data download

bench: $(STAMP)  ## side-by-side timings in benchmarks/ (the soak and the ALIE experiment aside)
	@for f in benchmarks/*.py; do case $$f in *soak_*|*alie_probe*) continue;; esac; \
		echo "== $$f"; $(BIN)/python $$f || exit 1; done

soak: $(STAMP)  ## run the notebook tests PASSES (10) times; count kernel hangs and other failures
	$(BIN)/python benchmarks/soak_notebooks.py --passes $(PASSES)

federation: $(STAMP)  ## TLS Flower federation on 127.0.0.1: SuperLink + SUPERNODES (3) SuperNodes run flower_app, per-round accuracy
	$(BIN)/python flower_app/federation.py --supernodes $(SUPERNODES) $(FEDERATION_ARGS)

capstone: $(STAMP)  ## notebook 08's consortium: TLS SuperLink + 5 hospital SuperNodes (own data-path each), SecAgg+, compared in-process
	$(BIN)/python flower_app/federation.py --app capstone $(CAPSTONE_ARGS)

flower-sim: $(STAMP)  ## flwr run flower_app on the simulation engine (SIM_SUPERNODES=10), then stop the SuperLink flwr left
	$(BIN)/python flower_app/federation.py --simulation --supernodes $(SIM_SUPERNODES) $(FEDERATION_ARGS)

clean-venv:
	rm -rf $(VENV)
