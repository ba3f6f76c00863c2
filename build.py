#!/usr/bin/env python3
"""Build an AI News Digest site: ``python build.py [build|check|clean] [options]``.

A thin entry point; the engine is the ``digest`` package.
"""

import os
import sys

if sys.version_info < (3, 11):  # noqa: UP036 -- said before the package, whose first import would fail with a traceback
    sys.exit("error: AI News Digest needs Python 3.11 or later, found " + sys.version.split()[0])

from digest.cli import main

if __name__ == "__main__":
    code = main()
    if sys.getprofile() is None and sys.gettrace() is None:  # a profiler or coverage writes its results at exit
        # Everything is written and closed by now. Leave without freeing a large site's
        # objects one by one, which takes a tenth of a second or more at 10,000 articles.
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # the reader went away (`build.py | head`): nothing more to say
            pass
        os._exit(code)
    sys.exit(code)
