"""The coordinator: calibrates the noise shares to the run's ε, runs SecAgg+ with the threshold of
the colluder rule, takes one gradient step per round, prints each round's pooled test accuracy."""

from ppml_helpers.capstone.flower import make_server_app

app = make_server_app()
