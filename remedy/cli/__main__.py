"""`python -m remedy.cli`: the same command as the `remedy` script."""

from remedy.cli import main

if __name__ == "__main__":
    main()
