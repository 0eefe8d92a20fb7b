"""`python -m spacectl` runs the CLI."""

from spacectl.cli import main

main()
