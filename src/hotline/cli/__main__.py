"""`python -m hotline.cli`, as `python -m hotline` and the `hotline` script."""

from hotline.cli import main

main()
