#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

if sys.version_info < (3, 12):
    sys.exit(f"This project needs Python 3.12 or newer; this is {sys.version.split()[0]}.")


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pizzeria.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
