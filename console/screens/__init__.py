"""Console screens (modal dialogs), one per module."""
