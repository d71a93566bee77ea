"""``python -m trainlab`` is the ``trainlab`` command."""

from .cli import main

main()
