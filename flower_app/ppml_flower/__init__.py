"""Notebook 01's FedAvg task as a Flower app: ServerApp, ClientApp, and the task they share."""
