"""One module per ``netlab`` sub-command; each has ``add_parser(subparsers)``."""
