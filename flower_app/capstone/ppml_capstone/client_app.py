"""A hospital: reads only its own file (node config ``data-path``), sends its clipped gradient sum
plus its Gaussian noise share through ``secaggplus_mod``, scores models on its own test split."""

from ppml_helpers.capstone.flower import make_client_app

app = make_client_app()
