"""Continuous integration: GitHub Actions workflow commands (`workflow`, used by the CLI when it
runs as a step) and the composite action's driver (`github`, run by action.yml only). Standard
library only."""
