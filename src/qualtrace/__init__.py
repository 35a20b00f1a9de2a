"""qualtrace: qualitative research text to a coded, traceable evidence base."""
from importlib.resources import files
from pathlib import Path

__version__ = "0.1.0"

# The schemas (config, codebook, tables, REFI-QDA XSDs) ship inside the package, so an installed
# qualtrace validates without a checkout; the Snakefile validates with these same files.
SCHEMA_DIR = Path(str(files(__name__) / "schemas"))
