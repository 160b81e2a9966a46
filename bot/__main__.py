"""`python -m bot` is `errdesk`."""

import sys

from bot.cli import main

sys.exit(main())
