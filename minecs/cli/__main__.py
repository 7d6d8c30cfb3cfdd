"""``python -m minecs.cli`` is the ``minecs`` command."""

import sys

from minecs.cli import main

sys.exit(main())
