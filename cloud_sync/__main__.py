"""`python -m cloud_sync` is `edge-cloud`."""

from __future__ import annotations

import sys

from cloud_sync.cli import main

sys.exit(main())
