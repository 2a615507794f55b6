"""Packaging beyond pyproject.toml: the top-level ``labs/`` folder ships inside the wheel.

The lab content lives at the top of the project (``labs/<id>/lab.md`` …), not in the package, so a
newcomer finds it beside ``netlab_tui/`` and ``tests/``. A wheel carries it as the data-only package
``netlab_tui.labs_content``; an editable install and a checkout read ``labs/`` in place
(``netlab_tui.labs.catalog.content_dir``).
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["netlab_tui", "netlab_tui.*"]) + ["netlab_tui.labs_content"],
    package_dir={"netlab_tui.labs_content": "labs"},
    package_data={
        "netlab_tui": ["ui/*.tcss", "examples/**/*"],
        "netlab_tui.labs_content": ["*.md", "*/*.md", "*/*/*", "*/*/*/*"],
    },
    exclude_package_data={"netlab_tui.labs_content": ["*/__pycache__/*", "*/*/__pycache__/*"]},
)
