"""The fleet: other machines' gateways and engines (``[hosts.NAME]``), probed for health and
load, and offered to the router as providers, so one ``lexitui serve`` fronts them all."""
