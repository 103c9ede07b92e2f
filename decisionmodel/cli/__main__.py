"""``python -m decisionmodel.cli``: the ``decisionmodel`` command."""

import sys

from decisionmodel.cli import main

sys.exit(main())
