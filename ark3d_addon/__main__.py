"""``python -m ark3d_addon``: the command line, runnable without Blender."""

import sys

from .cli import main

sys.exit(main())
