"""`python -m character_dev.bench`: see the package docstring."""

import sys

from .cli import main

sys.exit(main())
