"""spacectl: declarative infrastructure-as-code for Hugging Face Spaces.

The distribution is `hf-spacectl` (the name `spacectl` on PyPI is another project); the import
package is `spacectl`. `__version__` is the installed distribution's version, or pyproject's
when running from a source tree that is not installed.
"""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "hf-spacectl"
SOURCE_VERSION = "0.2.0"  # pyproject.toml's version (a test keeps the two equal)

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = SOURCE_VERSION
