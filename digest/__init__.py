"""AI News Digest: a static site generator for AI news digests.

The engine is a pipeline, one module per stage:

    config -> content -> markdown -> index -> pages -> render -> output

``digest.site.build_site`` wires the stages; ``build.py`` at the top of the
repository is only the command-line entry point.
"""

__version__ = "0.1.0"
