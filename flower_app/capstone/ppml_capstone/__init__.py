"""Notebook 08's consortium as a Flower app; the apps themselves live in ppml_helpers.capstone.flower."""
