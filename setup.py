"""Build configuration beyond pyproject.toml: the optional C master pass of the matcher.

`optional=True`: where no C compiler is found the build goes on without it, and
qualtrace.matcher uses its pure-Python pass (same answers, slower).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("qualtrace._masterpass", ["src/qualtrace/_masterpass.c"],
                             optional=True)])
