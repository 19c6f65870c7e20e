"""For ``scrapyd-deploy`` only, which builds the Scrapyd egg with ``python setup.py bdist_egg``:
everything (the packages, the ``scrapy`` entry point naming the settings) is in pyproject.toml.
Without this file scrapyd-deploy writes its own, whose name and packages pyproject.toml
overrides."""

from setuptools import setup

setup()
