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

.PHONY: lab lock test lint course fast-course data bench soak build federation capstone flower-sim clean-venv guide slides wheelhouse site \
	tf-kernel syft-kernel appendix-kernels appendix-locks

# OFFLINE=1: install from the wheelhouse that `make wheelhouse` filled, with the index off.
WHEELHOUSE ?= wheelhouse
OFFLINE_ARGS := $(if $(OFFLINE),--no-index --find-links $(WHEELHOUSE))
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(OFFLINE),@test -f $(WHEELHOUSE)/requirements.txt || { echo "OFFLINE=1 needs a wheelhouse: run make wheelhouse (WHEELHOUSE=$(WHEELHOUSE)) on a connected machine first" >&2; exit 1; })
	$(BIN)/python -m pip install --quiet $(OFFLINE_ARGS) --upgrade pip
	$(BIN)/python -m pip install --quiet $(OFFLINE_ARGS) $(if $(OFFLINE),--no-deps -r $(WHEELHOUSE)/requirements.txt,-r $(LOCK))
	$(BIN)/python -m pip install --quiet $(OFFLINE_ARGS) --no-deps -e .
	@touch $(STAMP)

# The appendix kernels (A1: TensorFlow Federated + TF Privacy, A2: PySyft 0.9.5) pin numpy,
# TensorFlow and pandas releases the course cannot live beside, so each gets its own venv,
# .venv-<name>, installed from requirements/<name>-lock.txt with --no-deps (the lock is the
# whole environment, resolved with requirements/<name>-overrides.txt: see those files for
# the workarounds), and a Jupyter kernel ppml-<name> registered in the course's .venv, where
# JupyterLab, `ppml run` and the notebook tests look for it. Python 3.11 only (TFF: < 3.12).
APPENDIX_KERNELS := tf syft
KERNELS_DIR := $(VENV)/share/jupyter/kernels
KERNEL_NAME_tf := TensorFlow Federated + TF Privacy (ppml-tf)
KERNEL_NAME_syft := PySyft 0.9.5 (ppml-syft)

.venv-%/.installed: requirements/%-lock.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "The appendix kernel $* needs Python 3.11 ($(PYTHON) is $$($(PYTHON) -V 2>&1)); run make with PYTHON=python3.11." >&2; exit 1; }
	@test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-$*/bin/python -m pip install --quiet --no-deps -r requirements/$*-lock.txt
	.venv-$*/bin/python -m pip install --quiet --no-deps -e .
	@touch $@

# The kernel spec blanks PYTHONPATH (Python ignores an empty one): a PYTHONPATH into the
# course's .venv (Ray, under Flower's simulation, writes its whole sys.path there) would put
# numpy 2 over the appendix's numpy 1.
$(KERNELS_DIR)/ppml-%/kernel.json: .venv-%/.installed $(STAMP) Makefile
	.venv-$*/bin/python -m ipykernel install --prefix "$(CURDIR)/$(VENV)" --name ppml-$* \
		--display-name "$(KERNEL_NAME_$*)" --env PYTHONPATH ""
	@echo "kernel ppml-$* registered in $(KERNELS_DIR), where the course's Jupyter finds it (ipykernel's warning looks from .venv-$*)"

.PRECIOUS: .venv-%/.installed $(KERNELS_DIR)/ppml-%/kernel.json  # stamps, not intermediates to delete

tf-kernel: $(KERNELS_DIR)/ppml-tf/kernel.json  ## the ppml-tf kernel for appendix A1 (.venv-tf, about 2.5 GB)
syft-kernel: $(KERNELS_DIR)/ppml-syft/kernel.json  ## the ppml-syft kernel for appendix A2 (.venv-syft)
appendix-kernels: tf-kernel syft-kernel  ## both appendix kernels

# Each appendix lock: requirements/<name>.in resolved for Linux x86-64, Python 3.11, with
# its overrides (TFF ships one Linux x86-64 wheel; PySyft 0.9.5's pins are Linux-tested).
appendix-locks: $(STAMP)
	for k in $(APPENDIX_KERNELS); do \
		$(BIN)/uv pip compile requirements/$$k.in --override requirements/$$k-overrides.txt \
			--python-version 3.11 --python-platform x86_64-manylinux_2_31 --prerelease disallow \
			-o requirements/$$k-lock.txt || exit 1; done

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

test: lint appendix-kernels  ## ruff, notebooks/ in sync with solutions/, then pytest (units and every notebook, the appendices in their kernels, fast mode)
	$(BIN)/ppml build --check
	$(BIN)/python -m pytest

build: $(STAMP)  ## regenerate notebooks/ from solutions/
	$(BIN)/ppml build

course: $(STAMP)  ## execute every solution notebook in full mode; table of times and headlines; executed copies in runs/full (SAVE=dir to change)
	$(BIN)/ppml run --save $(or $(SAVE),runs/full)
	$(BIN)/python -m ppml_helpers.interview.measured $(or $(SAVE),runs/full)  # the numbers the interview bank quotes
	$(BIN)/ppml guide --record $(or $(SAVE),runs/full)  # the instructor guide's compute times

fast-course: $(STAMP)  ## every solution notebook in fast mode; its times go into the instructor guide
	$(BIN)/ppml run --fast --save $(or $(SAVE),runs/fast)
	$(BIN)/ppml guide --record $(or $(SAVE),runs/fast)

wheelhouse: $(STAMP)  ## download every locked wheel into wheelhouse/ for an offline install (PLATFORM=macos-arm64 …, PYVER=3.11)
	$(BIN)/ppml wheelhouse --dest $(WHEELHOUSE) $(if $(PLATFORM),--platform $(PLATFORM)) $(if $(PYVER),--python-version $(PYVER))

SITE_RUNS := $(if $(FULL),runs/full,runs/fast)
site: $(STAMP)  ## the course as a website in build/site, with fast-mode outputs (FULL=1: make course's full-mode ones)
	@test -d $(SITE_RUNS) || $(MAKE) $(if $(FULL),course,fast-course)
	$(BIN)/ppml site --runs $(SITE_RUNS) --out build/site

SLIDES_SOURCE ?= runs/fast
slides: $(STAMP)  ## reveal.js decks of the executed notebooks into slides/ (SLIDES_SOURCE=runs/full after make course)
	@test -d $(SLIDES_SOURCE) || $(MAKE) fast-course SAVE=$(SLIDES_SOURCE)
	$(BIN)/ppml slides --source $(SLIDES_SOURCE) --out slides --vendor slides/.vendor

guide: $(STAMP)  ## regenerate the instructor guide's generated parts (docs/instructor_guide.md)
	$(BIN)/ppml guide

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

# A federation across the room (docs/room_federation.md): the instructor's laptop runs the SuperLink,
# each learner's laptop a SuperNode with its own key and partition; TLS and SuperNode authentication on.
SEATS ?=
ROOM_HOST ?=
ROOM_PORT ?= 9092
MIN_NODES ?=
ROOM_RUN_CONFIG ?=
ROOM_ARGS ?=
.PHONY: room-superlink room-supernode room-run

room-superlink: $(STAMP)  ## instructor: TLS certificates (ROOM_HOST, default the LAN address) and SEATS seat keys in room/, SuperLink with node auth on port ROOM_PORT (9092), prints what learners type
	$(BIN)/python flower_app/room.py superlink --seats "$(SEATS)" --port "$(ROOM_PORT)" $(if $(ROOM_HOST),--host "$(ROOM_HOST)") $(ROOM_ARGS)

room-supernode: $(STAMP)  ## learner: join the room, make room-supernode SUPERLINK=host:port PARTITION=k SEATS=n KEY=room/seat-k/seat-k.key (CA: ca.crt beside KEY)
	$(BIN)/python flower_app/room.py supernode --superlink "$(SUPERLINK)" --partition "$(PARTITION)" --seats "$(SEATS)" --key "$(KEY)" $(if $(CA),--ca "$(CA)") $(ROOM_ARGS)

room-run: $(STAMP)  ## instructor, once the seats have joined: train flower_app across the room (MIN_NODES, default all; ROOM_RUN_CONFIG), per-round accuracy
	$(BIN)/python flower_app/room.py run $(if $(MIN_NODES),--min-nodes "$(MIN_NODES)") $(if $(ROOM_RUN_CONFIG),--run-config "$(ROOM_RUN_CONFIG)") $(ROOM_ARGS)

clean-venv:
	rm -rf $(VENV) $(APPENDIX_KERNELS:%=.venv-%)
