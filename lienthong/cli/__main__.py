"""`python -m lienthong.cli` is the `lienthong` command."""

from lienthong.cli.app import main

main()
