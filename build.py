#!/usr/bin/env python3
"""Build an AI News Digest site: ``python build.py [build|check|clean] [options]``.

A thin entry point; the engine is the ``digest`` package.
"""

import sys

from digest.cli import main

if __name__ == "__main__":
    sys.exit(main())
