"""``python -m crowd_perception.cli``: the same as the ``crowd-perception`` command."""

import sys

from . import main

sys.exit(main())
