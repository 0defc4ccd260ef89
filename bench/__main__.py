"""``python -m bench``: run the benchmark suite."""

import sys

from .run import main

sys.exit(main())
