"""qtiexport: teaching cases in YAML to SCORM 1.2 and QTI 2.1 packages."""

__version__ = "0.1.0"
