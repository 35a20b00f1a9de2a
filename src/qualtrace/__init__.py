"""qualtrace: qualitative research text to a coded, traceable evidence base."""

__version__ = "0.1.0"
