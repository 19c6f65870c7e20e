"""``python -m archiver``: the command line."""

from archiver.cli import main

main()
