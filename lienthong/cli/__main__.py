"""`python -m lienthong.cli` is the `lienthong` command."""

from lienthong.cli.warm import main

if __name__ == "__main__":  # not when a spawned worker process (connectors.isolated) re-imports the main module
    main()
