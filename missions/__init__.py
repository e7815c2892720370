"""The bundled mission library (TOML files shipped with the package)."""
