"""Orbital Mission Control console: the ``omc`` command line and (later) the Textual app."""
